"""Money amounts in plain text, in digits ("$10k", "2.500,50 EUR") or words ("fifty grand").

One reader for the request's slots and for the policy's facts, so a threshold the brain
understood is the amount the Approval Matrix is applied to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from text_to_num import alpha2digit

CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
CURRENCY_WORDS = {
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
}
MULTIPLIERS = {
    "k": 1_000,
    "thousand": 1_000,
    "grand": 1_000,
    "m": 1_000_000,
    "mm": 1_000_000,
    "million": 1_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
# "grand" only ever counts money; "k" and "million" also count followers, rows, users.
MONEY_MULTIPLIERS = {"grand"}

AMOUNT = re.compile(
    r"(?P<pre>usd|eur|gbp|[$€£])?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?:,\d+)?(?!\d)|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<mult>k|thousand|grand|mm|m|million|bn|billion)\b)?"
    r"(?:\s?(?P<post>usd|eur|gbp|dollars?|euros?|pounds?|bucks|quid)\b)?",
    re.IGNORECASE,
)
THRESHOLD_CUE = re.compile(
    r"(over|above|exceed\w*|more than|greater than|larger than|bigger than|at least|"
    r"upwards of|threshold|>=?|north of|beyond|under|below|less than|up to|limit|worth)\W*$",
    re.IGNORECASE,
)
COUNT_UNITS = re.compile(
    r"\s*(%|percent|days?|hours?|hrs?|minutes?|mins?|weeks?|months?|years?|times?|people|"
    r"employees?|users?|tickets?|items?|requests?|attempts?|mentions?|stars?|seats?|"
    r"points?|words?|pages?|am|pm|a\.m|p\.m)\b",
    re.IGNORECASE,
)
# text2num writes a scale word after a number as a number of its own: "2.5 million" comes
# back as "2.5 1000000", "10 thousand" as "10 1000".
SCALED = re.compile(r"(?<![\d.,])(\d+(?:\.\d+)?) (1000|1000000|1000000000)(?![\d.,])")


# text2num reads whole numbers only: "half a million" would lose its half.
FRACTIONS = {"half": "0.5", "quarter": "0.25"}
FRACTION_OF_SCALE = re.compile(
    r"\b(?:(?P<whole>[a-z]+(?:[- ][a-z]+)?|\d+)\s+and\s+a\s+|a\s+)?(?P<part>half|quarter)\s+"
    r"(?:of\s+)?(?:a\s+|an\s+)?(?P<scale>thousand|million|billion)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Money:
    """An amount stated in text, with its currency when one was named."""

    value: float
    currency: str | None


def fraction_of_scale(match: re.Match[str]) -> str:
    """Write "seven and a half thousand" as "7.5 thousand" and "half a million" as "0.5 million"."""
    part = float(FRACTIONS[match["part"].lower()])
    whole = match["whole"]
    if whole is None:
        return f"{plain(part)} {match['scale']}"
    words = whole.split()
    for size in (len(words), 1):  # "twenty-two", "twenty two", or only the last word is one
        head, tail = words[:-size], " ".join(words[-size:])
        try:
            number = float(alpha2digit(tail, "en", threshold=0).strip())
        except ValueError:
            continue
        return " ".join([*head, f"{plain(number + part)} {match['scale']}"])
    return match[0]


def spelled_out(text: str) -> str:
    """Return ``text`` with numbers written in words as digits ("five hundred" -> "500").

    Small isolated numbers and ordinals ("one of", "the first step") stay words.
    """
    text = FRACTION_OF_SCALE.sub(fraction_of_scale, text)
    converted = alpha2digit(text, "en", threshold=10)
    return SCALED.sub(lambda m: plain(float(m[1]) * int(m[2])), converted)


def plain(value: float) -> str:
    """Write a number without separators, whole numbers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_number(text: str) -> float:
    """Read '10,000', '2,500.50' and the European '1.000' / '2.500,50' alike."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", text):
        return float(text.replace(".", "").replace(",", "."))
    return float(text.replace(",", ""))


def looks_like_count(text: str, end: int) -> bool:
    """Tell whether the number ending at ``end`` counts something other than money."""
    return bool(COUNT_UNITS.match(text[end : end + 12]))


def money_in(text: str) -> Iterator[Money]:
    """Yield every amount in ``text`` that reads as money or as a money threshold.

    Example:
        >>> [m.value for m in money_in("wire five hundred thousand dollars, then 2 invoices")]
        [500000.0]
    """
    text = spelled_out(text)
    for match in AMOUNT.finditer(text):
        pre, post, mult = match["pre"], match["post"], match["mult"]
        before = text[max(0, match.start() - 30) : match.start()]
        after = text[match.end() : match.end() + 1]
        if after in ("%", ":") or (match.start() > 0 and text[match.start() - 1] in "#@:/"):
            continue
        if re.search(r"\b(score|rating|credit score|fico)\W+\w*\W*$", before, re.IGNORECASE):
            continue
        has_money = bool(pre or post or (mult and mult.lower() in MONEY_MULTIPLIERS))
        cued = bool(THRESHOLD_CUE.search(before))
        if not (has_money or (mult and cued)) and (not cued or looks_like_count(text, match.end())):
            continue
        value = parse_number(match["num"])
        if mult:
            value *= MULTIPLIERS[mult.lower()]
        currency = None
        if pre:
            currency = CURRENCY_SYMBOLS.get(pre, pre.upper())
        elif post:
            currency = CURRENCY_WORDS[post.lower()]
        yield Money(value, currency)


def extract_amount(text: str) -> tuple[float | None, str | None]:
    """Return the first money amount that reads as a threshold, and its currency."""
    first = next(money_in(text), None)
    return (first.value, first.currency) if first else (None, None)


def largest_amount(text: str) -> float | None:
    """Return the largest money amount ``text`` states, if any."""
    return max((m.value for m in money_in(text)), default=None)


def money_value(value: object) -> float | None:
    """Read a money value given as a number or as text ("$5,000", "five grand")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and "{{" not in value:
        stripped = value.strip()
        try:
            return float(stripped.replace(",", "").lstrip("$€£"))
        except ValueError:
            return largest_amount(stripped)
    return None
