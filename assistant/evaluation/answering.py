"""Does a reply answer the customer, or tell them to do what they said they already did?"""

from __future__ import annotations

import re

from knowledge.text import terms

SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
INSTRUCTION = re.compile(
    r"^\s*(\d+[.)]\s*|[-*]\s*)?(please\s+)?(go|open|click|tap|enter|check|request|use|try|"
    r"visit|sign|select|choose|wait|reset|follow|contact|send|make sure|look)\b|"
    r"\byou can\b|\bplease\b|\btry\b",
    re.IGNORECASE,
)
HOW_OFTEN = re.compile(
    r"\b(once|twice|again|(\w+|\d+|a few|several|many|multiple) times)\b", re.IGNORECASE
)
"""How often something was tried says nothing about what was tried."""
COVERED_SHARE = 0.6
"""Share of an action's content words a reply sentence must repeat to be telling it again."""


def repeated_steps(reply: str, tried: list[str]) -> list[str]:
    """Return the reply's instructions that ask the customer to redo something they tried.

    ``tried`` are the actions the customer says they already took ("clicked the reset
    link three times"). A sentence repeats one when it is an instruction and holds most of
    that action's content words.
    """
    repeated = []
    actions = [set(terms(HOW_OFTEN.sub(" ", t))) for t in tried]
    for sentence in SENTENCE.split(reply):
        if not INSTRUCTION.search(sentence):
            continue
        words = set(terms(sentence))
        for action in actions:
            if len(action) >= 2 and len(action & words) >= COVERED_SHARE * len(action):
                repeated.append(sentence.strip())
                break
    return repeated
