"""Read the markdown knowledge library: front matter, prose and playbook step templates."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

KINDS = ("playbook", "policy", "faq", "doc")
TEXT_SUFFIXES = (".md", ".markdown", ".txt")
"""The only files ingestion reads: markdown and plain text."""
FOLDER_KINDS = {"playbooks": "playbook", "policies": "policy", "faq": "faq"}
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when built in (about 10x faster on the library), else pure Python."""


class LibraryError(ValueError):
    """Raised when a library file cannot be read; the message names the file."""


@dataclass(frozen=True)
class LibraryDoc:
    """One markdown document of the library."""

    doc: str
    """Path relative to its library root, e.g. ``playbooks/invoice-triage.md``."""
    title: str
    kind: str
    body: str
    front: dict[str, Any] = field(default_factory=dict)
    digest: str = ""

    @property
    def slug(self) -> str:
        """Return the file name without its extension."""
        return Path(self.doc).stem

    @property
    def tags(self) -> list[str]:
        """Return the document's tags."""
        return [str(t) for t in self.front.get("tags") or []]

    @property
    def summary(self) -> str:
        """Return the one-line summary from the front matter, if any."""
        return str(self.front.get("summary") or "")

    @property
    def examples(self) -> list[str]:
        """Return example phrasings (playbook requests or FAQ questions)."""
        return [str(e) for e in (self.front.get("examples") or self.front.get("questions") or [])]


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``---`` YAML front matter from markdown prose."""
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end == -1:
        return {}, text
    front = yaml.load(text[3:end], Loader=SAFE_LOADER) or {}
    if not isinstance(front, dict):
        raise ValueError("front matter is not a mapping")
    body = text[end + 4 :].lstrip("\n")
    return front, body


def read_doc(path: Path, root: Path) -> LibraryDoc:
    """Read one markdown file under ``root``."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
        del raw  # a long file is held once as text, not also as bytes, while it is split
        front, body = split_front_matter(text)
    except (UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        raise LibraryError(f"{path}: cannot read front matter: {exc}") from exc
    del text
    rel = path.relative_to(root).as_posix()
    kind = str(front.get("kind") or FOLDER_KINDS.get(rel.split("/")[0], "doc"))
    if kind not in KINDS:
        kind = "doc"
    title = str(front.get("title") or path.stem.replace("-", " ").capitalize())
    return LibraryDoc(
        doc=rel,
        title=title,
        kind=kind,
        body=body,
        front=front,
        digest=digest,
    )


def find_documents(root: Path) -> tuple[list[Path], list[str]]:
    """Return the text files below ``root`` in a stable order, and what was left out and why.

    Symlinks are followed only when their target resolves inside ``root``: a link in the
    library to ``/etc/passwd`` or another folder is reported, never read. Linked folders are
    not descended into (their files inside ``root`` are found where they really are).
    """
    root = root.resolve()
    if root.is_file():
        return [root], []
    found: list[Path] = []
    skipped: list[str] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        for name in sorted(dirs):
            if (here / name).is_symlink() and not inside(here / name, root):
                skipped.append(
                    f"{relative(here / name, root)}/: a symlink to a folder outside {root}"
                )
        for name in files:
            path = here / name
            if path.suffix.lower() not in TEXT_SUFFIXES:
                continue
            if path.is_symlink() and not inside(path, root):
                skipped.append(f"{relative(path, root)}: a symlink to a file outside {root}")
            elif path.is_file():
                found.append(path)
    return sorted(found), sorted(skipped)


def inside(path: Path, root: Path) -> bool:
    """Tell whether ``path``, with every symlink resolved, lies within ``root``."""
    return path.resolve().is_relative_to(root)


def relative(path: Path, root: Path) -> str:
    """Return ``path`` relative to ``root`` in posix form."""
    return path.relative_to(root).as_posix()


def iter_markdown(root: Path) -> list[Path]:
    """Return the text files below ``root`` that may be read, in a stable order."""
    return find_documents(root)[0]


def load_library(root: Path) -> list[LibraryDoc]:
    """Load every markdown document under ``root``."""
    root = root.resolve()
    return [read_doc(path, root) for path in iter_markdown(root)]


@lru_cache(maxsize=4)
def cached_library(root: str) -> tuple[LibraryDoc, ...]:
    """Load the library at ``root`` once per process (the shipped library does not change)."""
    return tuple(load_library(Path(root)))
