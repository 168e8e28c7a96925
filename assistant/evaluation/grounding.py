"""Check that a drafted reply states no number or policy its cited sources do not contain.

The check reads a reply the way a support lead would: the greeting and the sign-off are
courtesy, the customer's own words quoted back to them are not claims, and every other
sentence that states a figure or a rule must be found in one of the cited documents.

What "carries a claim" means (``carries_claim``), any of:

- a number: digits (``14``, ``4.95``, ``10,000``, ``08:00``), a percentage (``%``,
  ``percent``), an amount (``$``, ``€``, ``£``, ``USD``, ``EUR``, ``GBP``) or a number
  word from two to twelve, the tens, ``hundred`` or ``thousand`` ("one" is left out: it is
  far more often a pronoun);
- a duration unit: minute, hour, day, business day, week, month(ly), year, annual(ly);
- policy language (``POLICY_WORDS``): must, cannot, required, mandatory, eligible,
  entitled, allowed, permitted, only, within, deadline, expire, refund, fee, charge,
  free, price, cost, policy, guarantee, warranty, always, never, covered, reimburse,
  compensation.

What "supported" means (``supported``): the sentence is checked against each cited
document, after both are normalised the same way (lower case; markdown emphasis, code
marks, headings, list markers and table pipes dropped; curly quotes made straight; dashes
made hyphens; whitespace collapsed). It is supported if, for one cited document, either

1. it is a verbatim quote: the normalised sentence, without its end punctuation, is a
   substring of the normalised document; or
2. it is a near-verbatim quote of one passage (one sentence of the document; a lead-in
   ending in ":" is read with the sentence or list after it, a table row with its header
   row): every number of the sentence
   is a number of that passage, every policy word and duration unit of the sentence
   occurs in it, the sentence is negated if and only if the passage is, and at least
   ``MIN_COVERAGE`` of the sentence's other content words (stemmed) occur in it too.

The second rule lets a table row be rendered as "Plan: Business; Price: $29" and allows
light rewording, but not a figure, a rule or a "not" that the passage does not hold.

A claim sentence that starts in lower case is a fragment cut from its context ("no
tracking number appears 2 business days after..." without its "Contact us if:"): it
counts as unsupported even when its words are in the source, because out of context it
states a rule the source does not.

Not checked: the greeting line ("Hi Ana,"), everything from a sign-off line ("Best
regards,") on, and quoted spans that repeat the ticket's own words or a cited title
(``reply_sentences``). Sentences are split after ".", "!" or "?" and a space, except
after "e.g.", "i.e.", "etc.", "vs.", "approx." and "incl.".

Two simpler checks go with it: a reply greets the customer when its first line starts
with hi, hello, hey, dear or good morning/afternoon/evening (``GREETING``), and it gives
a next step when one of its sentences tells the customer what to do or what happens
next (``NEXT_STEP``: "reply to this email", "contact us", "we will get back to you",
"will review", "go to", "click", "open", "visit", "read the", "see", "let us know",
"follow", "check", "sign in", "download", "choose", "select", "request").
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from knowledge.text import stem, terms

MIN_COVERAGE = 0.8
"""Share of a sentence's content words that must occur in one passage of a cited doc."""

NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "ninety": "90",
    "hundred": "100",
    "thousand": "1000",
}
DURATION_WORDS = r"minutes?|hours?|days?|weeks?|months?|monthly|years?|annual(?:ly)?"
POLICY_WORDS = (
    r"must|cannot|can't|required?|requires|mandatory|(?:in)?eligible|entitled|allowed|"
    r"permitted|only|within|deadlines?|expir(?:e|es|ed|y)|refund(?:s|ed|able)?|fees?|"
    r"charge[sd]?|free|prices?|costs?|polic(?:y|ies)|guarantee[sd]?|warrant(?:y|ies)|always|"
    r"never|covered|reimburse(?:d|ment)?|compensation"
)
CLAIM = re.compile(
    rf"\d|%|\bpercent\b|[$€£]|\b(?:usd|eur|gbp)\b|\b(?:{'|'.join(NUMBER_WORDS)})\b|"
    rf"\b(?:{DURATION_WORDS})\b|\b(?:{POLICY_WORDS})\b",
    re.IGNORECASE,
)
RULE_WORD = re.compile(rf"\b(?:{DURATION_WORDS}|{POLICY_WORDS})\b", re.IGNORECASE)
NEGATION = re.compile(r"\b(?:not|no|never|cannot|without)\b|n't\b", re.IGNORECASE)
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")

GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b", re.IGNORECASE
)
SIGN_OFF = re.compile(
    r"^\s*(?:best|kind|warm)?\s*(?:regards|wishes|thanks|thank you|cheers|sincerely)\b[^.!?]{0,20}$",
    re.IGNORECASE,
)
NEXT_STEP = re.compile(
    r"\b(?:reply to (?:this|our) (?:email|message)|contact us|get back to you|will review|"
    r"go to|click|open|visit|read the|see|let us know|follow|check|sign in|download|"
    r"choose|select|request)\b",
    re.IGNORECASE,
)
"""Phrases that tell the customer what to do, or what happens next."""

SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+")
ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|approx|incl)\.$", re.IGNORECASE)
PLAIN_PUNCTUATION = str.maketrans("“”‘’–—", "\"\"''--")
QUOTED = re.compile(r"[\"“]([^\"“”]+)[\"”]")


@dataclass
class ReplyCheck:
    """What the grounding check found in one reply."""

    claims: list[str] = field(default_factory=list)
    """Sentences that state a number or a policy."""
    unsupported: list[str] = field(default_factory=list)
    """Claim sentences found in none of the cited documents."""
    greets: bool = False
    next_step: bool = False


def normalise(text: str) -> str:
    """Return ``text`` lower-cased, without markdown marks, with plain quotes and spacing."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(PLAIN_PUNCTUATION)
    text = re.sub(r"^\s*#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"\*\*|__|`|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)", "", text)
    text = re.sub(r"\s*\|\s*", " ", text)
    return re.sub(r"\s+", " ", text).strip().lower()


@lru_cache(maxsize=256)
def normalised(document: str) -> str:
    """Return ``normalise(document)``, computed once per document."""
    return normalise(document)


def numbers(text: str) -> set[str]:
    """Return the numbers ``text`` states, as digit strings ("10,000" and "ten" count)."""
    found = {n.replace(",", "") for n in NUMBER.findall(text)}
    words = re.findall(r"[a-z]+", text.lower())
    return found | {NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS}


def rule_stems(text: str) -> set[str]:
    """Return the stemmed policy words and duration units of ``text``, plus "not" if negated."""
    found = {stem(w.lower().replace("can't", "cannot")) for w in RULE_WORD.findall(text)}
    return found | ({"not"} if NEGATION.search(text) else set())


def carries_claim(sentence: str) -> bool:
    """Tell whether ``sentence`` states a number, an amount, a duration or a rule."""
    return bool(CLAIM.search(sentence))


@dataclass(frozen=True)
class Evidence:
    """One sentence of a document (or a lead-in and the next), with what the check compares."""

    numbers: frozenset[str]
    rules: frozenset[str]
    terms: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Evidence:
        """Return the passage of normalised ``text``."""
        return cls(frozenset(numbers(text)), frozenset(rule_stems(text)), frozenset(terms(text)))


def document_sentences(document: str) -> list[str]:
    """Return the normalised sentences of a markdown document.

    A heading is a sentence; a table row is one sentence, read with its header row so the
    column names count; a list with no end punctuation reads as one sentence.
    """
    out: list[str] = []
    for block in re.split(r"\n\s*\n", document):
        lines = [line for line in block.strip().splitlines() if line.strip()]
        if lines and all(line.lstrip().startswith("|") for line in lines):
            rows = [line for line in lines if not set(line) <= set("|-: ")]
            out += [normalise(f"{rows[0]} {row}") for row in rows[1:]] or [normalise(block)]
        elif lines:
            out += split_sentences(normalise(block))
    return out


@lru_cache(maxsize=256)
def evidence(document: str) -> tuple[Evidence, ...]:
    """Return every sentence of ``document``, and every lead-in with what it introduces."""
    found = document_sentences(document)
    leads = [f"{a} {b}" for a, b in itertools.pairwise(found) if a.endswith(":")]
    return tuple(Evidence.of(text) for text in found + leads)


def supported(sentence: str, documents: Mapping[str, str]) -> bool:
    """Tell whether ``sentence`` is a (near-)verbatim quote of one of ``documents``.

    Args:
        sentence: one sentence of a reply.
        documents: the cited documents' markdown, by document path.

    Example:
        >>> doc = {"faq/x.md": "Refunds take **5–10 business days** to appear."}
        >>> supported("Refunds take 5-10 business days to appear.", doc)
        True
        >>> supported("Refunds take 3 business days to appear.", doc)
        False
    """
    quote = normalise(sentence).strip(" .!?;:\"'")
    wanted_numbers = numbers(quote)
    wanted_rules = rule_stems(quote)
    wanted_terms = {t for t in terms(quote) if not t.isdigit()}
    for document in documents.values():
        if quote and quote in normalised(document):
            return True
        for passage in evidence(document):
            if not (wanted_numbers <= passage.numbers and wanted_rules <= passage.rules):
                continue
            if ("not" in wanted_rules) != ("not" in passage.rules):
                continue
            covered = len(wanted_terms & passage.terms) / (len(wanted_terms) or 1)
            if covered >= MIN_COVERAGE:
                return True
    return False


def reply_sentences(body: str, echoes: str = "", titles: tuple[str, ...] = ()) -> list[str]:
    """Return the sentences of a reply between its greeting and its sign-off.

    A first line that greets ("Hi Ana,") is dropped, and so is everything from a sign-off
    line ("Best regards,") on. A quoted span that repeats the customer's own words
    (``echoes``) or a cited title is replaced by "…": quoting it back is not a claim.
    """
    lines = body.strip().splitlines()
    if lines and GREETING.match(lines[0]):
        lines = lines[1:]
    kept: list[str] = []
    for line in lines:
        if SIGN_OFF.match(line):
            break
        kept.append(line)
    heard = normalise(echoes)
    known = {normalise(t).strip(" .!?") for t in titles}

    def unquote(match: re.Match[str]) -> str:
        said = normalise(match.group(1)).strip(" .!?")
        return '"…"' if said and (said in heard or said in known) else match.group(0)

    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", "\n".join(kept)):
        flat = QUOTED.sub(unquote, " ".join(paragraph.split()))
        out.extend(split_sentences(flat))
    return out


def split_sentences(text: str) -> list[str]:
    """Split text after every ".", "!" or "?" that ends a sentence, not an abbreviation."""
    out: list[str] = []
    for piece in SENTENCE_END.split(text):
        if out and ABBREVIATION.search(out[-1]):
            out[-1] += " " + piece
        elif piece.strip():
            out.append(piece.strip())
    return out


def is_fragment(sentence: str) -> bool:
    """Tell whether ``sentence`` starts in lower case, i.e. was cut from a longer one."""
    first = re.search(r"[^\W\d_]", sentence)
    return first is not None and first.group(0).islower()


def check_reply(
    body: str,
    documents: Mapping[str, str],
    *,
    ticket_text: str = "",
    titles: tuple[str, ...] = (),
) -> ReplyCheck:
    """Check one reply against the documents it cites.

    Args:
        body: the reply text.
        documents: the markdown of every cited document, by document path.
        ticket_text: the ticket's subject and body; quoting it back is not a claim.
        titles: the cited documents' titles; naming an article is not a claim.

    Example:
        >>> docs = {"faq/returns.md": "You have **30 days** from delivery to return an item."}
        >>> check = check_reply(
        ...     "Hi Ana,\\n\\nYou have 30 days from delivery to return an item. "
        ...     "Refunds arrive in 2 days.\\n\\nBest regards,\\nSupport",
        ...     docs,
        ... )
        >>> check.unsupported
        ['Refunds arrive in 2 days.']
    """
    lines = [line for line in body.strip().splitlines() if line.strip()]
    check = ReplyCheck(greets=bool(lines) and bool(GREETING.match(lines[0])))
    for sentence in reply_sentences(body, ticket_text, titles):
        if NEXT_STEP.search(sentence):
            check.next_step = True
        if not carries_claim(sentence):
            continue
        check.claims.append(sentence)
        if is_fragment(sentence) or not supported(sentence, documents):
            check.unsupported.append(sentence)
    return check
