"""Keep the held-out set held out: find five-word runs it shares with what tuning saw."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

RUN_LENGTH = 5
"""Word runs this long shared with tuning text mean a case is not written independently."""
EXAMPLES_FILE = Path(__file__).parents[1] / "brain" / "offline" / "examples.yaml"


def words(text: str) -> list[str]:
    """Return the lower-cased words of ``text``, punctuation stripped ("don't" -> "dont")."""
    return re.findall(r"[a-z0-9]+", re.sub(r"['’]", "", text.lower()))


def word_runs(text: str, n: int = RUN_LENGTH) -> set[tuple[str, ...]]:
    """Return every run of ``n`` consecutive words in ``text``."""
    seq = words(text)
    return {tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)}


def case_texts(requests: list[dict[str, Any]], tickets: list[dict[str, Any]]) -> Iterator[str]:
    """Yield the text of every request and ticket case (subject and body)."""
    for case in requests:
        yield str(case["text"])
    for case in tickets:
        ticket = case["ticket"]
        yield f"{ticket['subject']}\n{ticket['body']}"


def example_texts(path: Path = EXAMPLES_FILE) -> Iterator[str]:
    """Yield the offline brain's labelled examples and vocabulary."""
    data = yaml.safe_load(path.read_text()) or {}
    for phrases in (data.get("intents") or {}).values():
        yield from (str(p) for p in phrases)
    for terms in (data.get("vocabulary") or {}).values():
        yield " ".join(str(t) for t in terms)


def shared_runs(texts: Iterable[str], reference: Iterable[str]) -> dict[str, list[str]]:
    """Return each of ``texts`` that shares a word run with ``reference``, with those runs."""
    seen: set[tuple[str, ...]] = set()
    for text in reference:
        seen |= word_runs(text)
    found: dict[str, list[str]] = {}
    for text in texts:
        shared = sorted(" ".join(run) for run in word_runs(text) & seen)
        if shared:
            found[text] = shared
    return found
