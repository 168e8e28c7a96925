"""Tell what a turn is about: small talk, something outside the company's processes, or a
process, judged by the words that are left once the request's details are set aside."""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.brain.offline.slots import CHANNEL, EMAIL, ROLE_PATTERNS
from assistant.policy.amounts import AMOUNT, spelled_out
from knowledge.text import terms

SOCIAL = re.compile(
    r"\b(thanks?|thank you|thx|ty|cheers|(much )?appreciated|bye|goodbye|see (you|ya)|"
    r"talk (soon|later)|catch you later|(much|most) obliged|take care|no worries|"
    r"(we'?re|i'?m|we are|i am) (all )?(done|finished|set|good)( here)?( for (now|today))?(?=\W*$)|"
    r"have a (nice|good|great|lovely)|that'?s all|good (night|morning|"
    r"afternoon|evening)|how are (you|things)|nice one|brilliant|awesome|perfect|great stuff|"
    r"sorry|oops|never ?mind|nvm|wrong (window|chat|tab|thread|person)|ignore (that|me)|lol|"
    r"haha|hehe)\b",
    re.IGNORECASE,
)
ABOUT_ASSISTANT = re.compile(
    r"\b(are|r) (you|u) (a |an |the )?(real|human|person|bot|robot|ai|chatgpt|gpt|machine|"
    r"model|flowdraft)\b|\bwho (made|built|created|trained|runs|wrote) (you|this)\b|"
    r"\bwhat (can|do|could) (you|flowdraft) (do|help)\b|\bwhat (kinds? of |sort of )?things "
    r"(can|do) you\b|\bhow (do|does) (you|this|flowdraft) work\b|\b(your|flowdraft's) "
    r"(name|model|limits)\b|\bwhich model\b|\bwhat are you\b|\bwho are you\b|"
    r"\bare you (chatgpt|gpt|an? (ai|llm|bot))\b",
    re.IGNORECASE,
)
ASSISTANT = re.compile(
    r"\b(you|your|yourself|this (thing|assistant|bot|tool|app|chat)|flowdraft)\b", re.IGNORECASE
)
PERSONAL = re.compile(
    r"\b(human|person|bot|robot|program|software|ai|machine|model|llm|built|made|created|"
    r"trained|designed|name|speak|languages?|favou?rite|feel|feelings|old|age|sing|dance|"
    r"sleep|eat|live|hobby|hobbies|remember|memory|browse|internet|web|online|smart|"
    r"intelligent|clever|conscious|alive|opinion|believe)\b",
    re.IGNORECASE,
)
"""What people ask the assistant about itself, rather than about their work."""
DETAIL_WORDS = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)"
    r"s?\b|\b(every|each|daily|weekly|monthly|hourly|nightly|morning|evening|afternoon|night|"
    r"week|month|quarter|day|hour|am|pm|at|on|over|above|under|below|more than|less than|"
    r"k|grand|dollars?|euros?|pounds?|bucks|quid|usd|eur|gbp)\b",
    re.IGNORECASE,
)
"""When and how much: details of a request that say nothing about which process it is."""
REQUEST_WORDS = frozenset(
    terms(
        "automate automation automatic automatically workflow flow process set setup build "
        "create make want need like please pls something stuff thing things usual help can "
        "could would you we our us me my it this that them team get got go send post notify "
        "update updates alert message ping remind hook hooked email mail improve better faster "
        "smoother fix sort handle involved more less side kind lot bit now today one two three "
        "four five six seven eight nine ten hundred thousand million half quarter couple "
        "anything everything anyone someone something good nice just also really work"
    )
)
"""Words any request may use, whatever the process: on their own they name none."""


ASKS_FOR_AUTOMATION = re.compile(
    r"\b(automat\w*|workflows?|flows?|process\w*|pipelines?|whenever|every time|routes?|"
    r"routing|sync\w*|integrat\w*|set ?up|approv\w*|sign[- ]?off)\b",
    re.IGNORECASE,
)
"""Words that make a request about the company's work, however unfamiliar its nouns."""


def is_social(text: str) -> bool:
    """Tell whether ``text`` is thanks, a greeting or goodbye, or a question about the assistant."""
    return bool(SOCIAL.search(text) or ABOUT_ASSISTANT.search(text) or asks_about_assistant(text))


def asks_about_assistant(text: str) -> bool:
    """Tell whether ``text`` is a question about the assistant itself ("who built you?")."""
    question = text.rstrip().endswith("?") or bool(
        re.match(r"\s*(who|what|which|are|is|do|does|can|where|how)\b", text, re.IGNORECASE)
    )
    return question and bool(ASSISTANT.search(text)) and bool(PERSONAL.search(text))


def process_terms(text: str) -> list[str]:
    """Return the content words of ``text`` once amounts, channels, addresses, roles, times
    and generic request words are set aside: what is left has to name the process."""
    rest = SOCIAL.sub(" ", EMAIL.sub(" ", CHANNEL.sub(" ", spelled_out(text))))
    rest = AMOUNT.sub(" ", rest)
    for pattern, _ in ROLE_PATTERNS:
        rest = pattern.sub(" ", rest)
    rest = DETAIL_WORDS.sub(" ", rest)
    return [t for t in terms(rest) if t not in REQUEST_WORDS and not t.isdigit()]


def unknown_share(words: Iterable[str], vocabulary: set[str]) -> float:
    """Return the share of ``words`` the library never uses (0 when there are none)."""
    seen = list(dict.fromkeys(words))
    if not seen:
        return 0.0
    return sum(1 for w in seen if w not in vocabulary) / len(seen)
