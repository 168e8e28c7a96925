"""Read a drafted schedule ("every Monday at 9am") as a five-field cron expression.

The text is scanned for the parts a schedule is made of: an interval ("every 15 minutes",
"every 2 hours", "hourly"), days of the week ("Mondays", "weekdays", "Monday to Friday"),
days of the month ("on the 1st and 15th"), months ("in January"), a time of day ("at 9am",
"8:30", "noon") and a time zone ("CET", "Europe/Paris"). Words that are not part of a
schedule ("before the stand-up") are ignored, but text with no frequency at all, or one
that cannot be said in cron ("the last Friday"), is refused with an example that works.

Example:
    >>> parse_schedule("every Monday at 9am").cron
    '0 9 * * 1'
    >>> parse_schedule("daily at 8:30").cron
    '30 8 * * *'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

EXAMPLES = "'every Monday at 9am', 'daily at 8:30', 'every weekday at 7am', 'every hour'"

DAYS = {
    "sunday": 0, "sun": 0, "monday": 1, "mon": 1, "tuesday": 2, "tue": 2, "tues": 2,
    "wednesday": 3, "wed": 3, "thursday": 4, "thu": 4, "thur": 4, "thurs": 4,
    "friday": 5, "fri": 5, "saturday": 6, "sat": 6,
}  # fmt: skip
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
ZONE_ABBREVIATIONS = {
    "UTC": "UTC", "GMT": "UTC", "Z": "UTC", "CET": "Europe/Berlin", "CEST": "Europe/Berlin",
    "BST": "Europe/London", "ET": "America/New_York", "EST": "America/New_York",
    "EDT": "America/New_York", "CT": "America/Chicago", "CST": "America/Chicago",
    "CDT": "America/Chicago", "MT": "America/Denver", "MST": "America/Denver",
    "MDT": "America/Denver", "PT": "America/Los_Angeles", "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
}  # fmt: skip
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "other": 2,
}

DAY_NAME = r"(?:" + "|".join(sorted(DAYS, key=len, reverse=True)) + r")s?\b"
DAY_RANGE = re.compile(rf"\b({DAY_NAME})\s*(?:-|to|through|thru|until)\s*({DAY_NAME})")
DAY_WORD = re.compile(rf"\b{DAY_NAME}")
INTERVAL = re.compile(
    r"\bevery\s+(\d+|" + "|".join(NUMBER_WORDS) + r")?\s*(minute|min|hour|hr|day|week|month)s?\b"
)
CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\s*(am|pm|a\.m\.|p\.m\.)?")
MERIDIEM = re.compile(r"\b(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)")
AT_HOUR = re.compile(r"\bat\s+(\d{1,2})\b(?!\s*(?:st|nd|rd|th|minutes?|hours?|days?)\b|:)")
ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b|\bday\s+(\d{1,2})\b")
ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fifteenth": 15}
UNSUPPORTED = re.compile(r"\b(last|every other (?:monday|tuesday|wednesday|thursday|friday|week))")


class ScheduleError(ValueError):
    """Raised for a schedule that cannot be read as cron, with what would work."""


@dataclass(frozen=True)
class Schedule:
    """A schedule as cron (minute hour day-of-month month day-of-week) and its time zone."""

    cron: str
    timezone: str


def parse_schedule(text: str, *, default_timezone: str = "UTC") -> Schedule:
    """Return the cron expression and time zone ``text`` describes.

    Raises ``ScheduleError`` naming the problem when the text has no frequency, a time that
    does not exist, or a pattern cron cannot express.
    """
    original = text.strip()
    lowered = " " + re.sub(r"\s+", " ", original.lower()) + " "
    if not original:
        raise ScheduleError(f"the schedule is empty; say when it runs, e.g. {EXAMPLES}")
    if match := UNSUPPORTED.search(lowered):
        raise ScheduleError(
            f"cannot schedule {original!r}: {match[0]!r} cannot be expressed as a cron "
            f"schedule; use a fixed pattern such as {EXAMPLES}"
        )
    timezone = find_timezone(original) or default_timezone
    hours, minute = find_times(lowered, original)
    weekdays = find_weekdays(lowered)
    days = find_month_days(lowered)
    months = sorted(
        {number for word, number in MONTHS.items() if re.search(rf"\b{word}\b", lowered)}
    )
    month_field = ",".join(map(str, months)) if months else "*"
    interval = INTERVAL.search(lowered)
    unit, every = (interval[2], amount(interval[1])) if interval else ("", 1)
    if unit in ("minute", "min") or re.search(r"\bevery minute\b", lowered):
        if hours:
            raise ScheduleError(f"cannot schedule {original!r}: a time of day with minutes")
        step = "*" if every == 1 else f"*/{check_range(every, 1, 59, original)}"
        return Schedule(f"{step} * * {month_field} {weekdays or '*'}", timezone)
    if unit in ("hour", "hr") or re.search(r"\bhourly\b", lowered):
        step = "*" if every == 1 else f"*/{check_range(every, 1, 23, original)}"
        return Schedule(f"{minute} {step} {days or '*'} {month_field} {weekdays or '*'}", timezone)
    hour_field = ",".join(map(str, hours)) if hours else "0"
    if unit == "day" and every > 1:
        days = f"*/{check_range(every, 2, 31, original)}"
    elif unit == "month":
        days = days or "1"
        month_field = "*" if every == 1 else f"*/{check_range(every, 2, 12, original)}"
    elif unit == "week" or re.search(r"\bweekly\b", lowered):
        if not weekdays:
            raise ScheduleError(
                f"cannot schedule {original!r}: say which day of the week, e.g. 'every Monday at 9am'"
            )
    elif re.search(r"\b(monthly|month)\b", lowered):
        days = days or "1"
    elif re.search(r"\b(yearly|annually|every year|each year)\b", lowered):
        days, month_field = days or "1", month_field if months else "1"
    elif not (
        weekdays
        or days
        or months
        or unit == "day"
        or re.search(r"\b(daily|nightly|each day|every day|every morning|every evening)\b", lowered)
    ):
        raise ScheduleError(
            f"cannot read {original!r} as a schedule: say how often it runs, e.g. {EXAMPLES}"
        )
    return Schedule(
        f"{minute} {hour_field} {days or '*'} {month_field} {weekdays or '*'}", timezone
    )


def amount(word: str | None) -> int:
    """Return the number an interval names ("15", "two", "other"), 1 when none."""
    if not word:
        return 1
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def check_range(value: int, low: int, high: int, original: str) -> int:
    """Return ``value`` if it lies in ``low..high``, else raise naming the schedule."""
    if not low <= value <= high:
        raise ScheduleError(f"cannot schedule {original!r}: {value} is out of range")
    return value


def find_times(lowered: str, original: str) -> tuple[list[int], int]:
    """Return the hours named (sorted) and their shared minute (0 when no time is named)."""
    found: list[tuple[int, int]] = []
    spans: list[tuple[int, int]] = []
    for match in CLOCK.finditer(lowered):
        found.append(clock(int(match[1]), int(match[2]), match[3], original))
        spans.append(match.span())
    for match in MERIDIEM.finditer(lowered):
        if not any(start <= match.start() < end for start, end in spans):
            found.append(clock(int(match[1]), 0, match[2], original))
    for match in AT_HOUR.finditer(lowered):
        if not any(start <= match.start(1) < end for start, end in spans):
            found.append(clock(int(match[1]), 0, None, original))
    if re.search(r"\bnoon\b|\bmidday\b", lowered):
        found.append((12, 0))
    if re.search(r"\bmidnight\b", lowered):
        found.append((0, 0))
    if re.search(r"\b(morning)\b", lowered) and not found:
        found.append((9, 0))
    minutes = {minute for _, minute in found}
    if len(minutes) > 1:
        raise ScheduleError(
            f"cannot schedule {original!r}: times with different minutes need separate schedules"
        )
    return sorted({hour for hour, _ in found}), minutes.pop() if minutes else 0


def clock(hour: int, minute: int, meridiem: str | None, original: str) -> tuple[int, int]:
    """Return a 24-hour (hour, minute), or raise for a time that does not exist."""
    if meridiem:
        if not 1 <= hour <= 12:
            raise ScheduleError(f"cannot schedule {original!r}: {hour}{meridiem} is not a time")
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError(f"cannot schedule {original!r}: {hour}:{minute:02d} is not a time")
    return hour, minute


def find_weekdays(lowered: str) -> str:
    """Return the day-of-week field ("1", "1-5", "0,6") or "" when no day is named."""
    if re.search(r"\b(weekdays?|working days?|business days?)\b", lowered):
        return "1-5"
    if re.search(r"\bweekends?\b", lowered):
        return "0,6"
    if match := DAY_RANGE.search(lowered):
        first, last = (DAYS[name.rstrip("s")] for name in (match[1], match[2]))
        if first < last:
            return f"{first}-{last}"
    numbers = {DAYS[word.rstrip("s")] for word in DAY_WORD.findall(lowered) if valid_day(word)}
    return ",".join(map(str, sorted(numbers)))


def valid_day(word: str) -> bool:
    """Tell whether a matched word is a day name (not "sat" in "satisfied", say)."""
    return word.rstrip("s") in DAYS or word in DAYS


def find_month_days(lowered: str) -> str:
    """Return the day-of-month field ("1", "1,15") or "" when no day of the month is named."""
    numbers: set[int] = set()
    for match in ORDINAL.finditer(lowered):
        numbers.add(int(match[1] or match[2]))
    for word, number in ORDINAL_WORDS.items():
        if re.search(rf"\b{word} (?:day|of)\b", lowered):
            numbers.add(number)
    for number in numbers:
        if not 1 <= number <= 31:
            raise ScheduleError(f"day {number} of the month does not exist")
    return ",".join(map(str, sorted(numbers)))


def find_timezone(original: str) -> str | None:
    """Return the IANA zone the text names ("CET", "Europe/Paris"), or None."""
    for match in re.finditer(r"\b[A-Z][A-Za-z_]+/[A-Za-z_/]+\b", original):
        if match[0] in available_timezones():
            return match[0]
    for word in re.findall(r"\b[A-Z]{1,4}\b", original):
        if word in ZONE_ABBREVIATIONS:
            return ZONE_ABBREVIATIONS[word]
    return None


def check_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA time zone, else raise ``ScheduleError``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"{name!r} is not a time zone (use an IANA name like 'Europe/Paris')"
        ) from None
    return name
