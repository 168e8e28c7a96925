"""Find what a customer says they already did, so a reply does not tell them to do it again.

"I already clicked the reset link three times", "checked my spam folder, nothing" or "I've
restarted the router twice" name actions the customer took. A reply sentence that asks them
to take one of those actions again reads as not having read the message; the reply quotes
the article's other sentences instead.
"""

from __future__ import annotations

import re

from knowledge.text import terms

TICKET_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n\s*\n|\s+(?:but|and then|then|yet)\s+", re.I)
TRIED_CUE = re.compile(
    r"\b(already|tried|i'?ve (done|been|gone|used|clicked|checked|requested|followed|reset|"
    r"restarted|cleared|updated|sent|entered|looked|searched|asked)|did that|done that|"
    r"(\w+|\d+|a few|several|many|multiple) times|twice|over and over|again and again|"
    r"(didn'?t|did not|doesn'?t|does not|won'?t|isn'?t|not) (work|help|arrive|come|change|"
    r"do anything)|no luck|nothing (happens|happened|came|arrived|changed)|still (nothing|"
    r"no|not|the same|getting|says|shows)|followed (the|your|all|every))\b",
    re.IGNORECASE,
)
"""Words with which people report something they did, or that it did not help."""
CUE_WORDS = frozenset(
    terms(
        "already tried try trying done did doing again times twice several many multiple few "
        "still nothing work worked working help helped luck arrive arrived came come change "
        "changed anything same getting says shows followed every all gone been used"
    )
)
"""Words of the report itself, not of the action it reports."""
INSTRUCTION = re.compile(
    r"^\s*(please\s+)?(go|open|click|tap|enter|check|request|use|try|visit|sign|select|"
    r"choose|wait|reset|follow|contact|send|make sure|look|add|clear|restart|update|resend|"
    r"log|turn|install|download|refresh|reply|include)\b|\byou can\b|\bplease\b|\btry\b|"
    r"\bsimply\b|\bjust\b",
    re.IGNORECASE,
)
"""Sentences that ask the customer to do something."""
URL = re.compile(r"https?://\S+")
OVERLAP = 0.5
"""Share of the shorter of an instruction and an action that, shared, makes it a repeat."""


def tried_actions(text: str) -> list[set[str]]:
    """Return the content words of each action the customer reports having taken."""
    actions = []
    for clause in TICKET_SENTENCE.split(text.strip()):
        if TRIED_CUE.search(clause):
            words = {t for t in terms(clause) if t not in CUE_WORDS and not t.isdigit()}
            if len(words) >= 1:
                actions.append(words)
    return actions


def repeats_tried(sentence: str, actions: list[set[str]]) -> bool:
    """Tell whether ``sentence`` asks the customer to redo one of ``actions``."""
    if not actions or not INSTRUCTION.search(sentence):
        return False
    words = set(terms(URL.sub(" ", sentence)))
    return any(
        len(shared := words & action) >= 2 and len(shared) >= OVERLAP * min(len(action), len(words))
        for action in actions
    )
