"""Pull slots out of free text: money thresholds, channels, emails, roles, schedules, systems.

Amounts, in digits or in words, are read by ``assistant.policy.amounts``, the reader the
policy uses too.
"""

from __future__ import annotations

import re

from assistant.policy.amounts import extract_amount
from assistant.schemas import Slots

CHANNEL = re.compile(r"(?<![\w&])#([a-z][a-z0-9._-]*[a-z0-9]|[a-z])", re.IGNORECASE)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

# Longest phrases first so "finance director" wins over "finance".
ROLE_PHRASES: list[tuple[str, str]] = [
    (r"chief financial officer|cfo|finance director|vp (?:of )?finance", "cfo"),
    (r"chief executive|ceo|managing director|founder", "ceo"),
    (r"financial controller|controller|comptroller", "controller"),
    (r"chief information security officer|ciso|security team|infosec|security", "security"),
    (r"general counsel|legal team|legal|lawyers?|counsel", "legal"),
    (r"compliance officer|compliance team|compliance", "compliance"),
    (r"head of support|support lead|support manager|support team lead", "support_lead"),
    (r"head of sales|sales manager|sales lead|vp (?:of )?sales|sales director", "sales_lead"),
    (r"people team|people ops|human resources|hr", "hr"),
    (r"it admins?|it team|it department|it", "it"),
    (
        r"finance team|finance lead|finance manager|accounts payable team|ap team|finance",
        "finance",
    ),
    (
        r"line manager|their manager|team lead|department head|the employee'?s manager|"
        r"direct manager|reporting manager|manager|supervisor",
        "manager",
    ),
]
ROLE_PATTERNS = [(re.compile(rf"\b(?:{p})\b", re.IGNORECASE), role) for p, role in ROLE_PHRASES]
# "IT" must be upper case to count: "it" is a pronoun.
IT_ROLE = re.compile(r"\bIT\b")
APPROVAL_CUE = re.compile(
    r"sign[- ]?off|approv\w*|sign\w*|ok\b|okay|green[- ]light|review\w*|escalat\w*|"
    r"authori[sz]\w*|go to|route\w* to|assign\w* to|goes to|send\w* to",
    re.IGNORECASE,
)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY = r"(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?s?"
TIME = re.compile(
    r"\b(?:at|@|by|around)?\s*(?P<h>[01]?\d|2[0-3])(?::(?P<m>[0-5]\d))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)?"
    r"(?=\W|$)",
    re.IGNORECASE,
)

SYSTEMS = {
    "salesforce": "salesforce",
    "hubspot": "hubspot",
    "zendesk": "zendesk",
    "freshdesk": "freshdesk",
    "intercom": "intercom",
    "jira": "jira",
    "servicenow": "servicenow",
    "pagerduty": "pagerduty",
    "opsgenie": "opsgenie",
    "netsuite": "netsuite",
    "quickbooks": "quickbooks",
    "xero": "xero",
    "sap": "sap",
    "workday": "workday",
    "bamboohr": "bamboohr",
    "bamboo hr": "bamboohr",
    "gusto": "gusto",
    "greenhouse": "greenhouse",
    "okta": "okta",
    "docusign": "docusign",
    "stripe": "stripe",
    "shopify": "shopify",
    "expensify": "expensify",
    "google drive": "google drive",
    "sharepoint": "sharepoint",
    "gmail": "gmail",
    "outlook": "outlook",
    "github": "github",
    "twitter": "twitter",
    "linkedin": "linkedin",
    "instagram": "instagram",
    "reddit": "reddit",
    "trustpilot": "trustpilot",
    "datadog": "datadog",
    "statuspage": "statuspage",
    "moodle": "moodle",
    "canvas": "canvas",
}
SYSTEM_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(SYSTEMS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def extract_slots(text: str) -> Slots:
    """Return the slots stated in ``text``.

    Example:
        >>> extract_slots("Invoices over $10k need CFO sign-off; post in #Finance").stated()
        {'amount_threshold': 10000, 'currency': 'USD', 'channel': '#finance', 'approver_role': 'cfo'}
    """
    amount, currency = extract_amount(text)
    return Slots(
        amount_threshold=amount,
        currency=currency,
        channel=extract_channel(text),
        email=extract_email(text),
        approver_role=extract_role(text),
        schedule=extract_schedule(text),
        systems=extract_systems(text),
    )


def extract_channel(text: str) -> str | None:
    """Return the first Slack channel (``#name``) in ``text``, lower-cased."""
    match = CHANNEL.search(text)
    return f"#{match.group(1).lower()}" if match else None


def extract_email(text: str) -> str | None:
    """Return the first email address in ``text``, lower-cased."""
    match = EMAIL.search(text)
    return match.group(0).lower() if match else None


def extract_role(text: str) -> str | None:
    """Return the approver role the text names, preferring one tied to an approval cue."""
    found: list[tuple[int, str]] = []
    scrubbed = EMAIL.sub(" ", CHANNEL.sub(" ", text))
    for pattern, role in ROLE_PATTERNS:
        if role == "it":
            matches = list(IT_ROLE.finditer(scrubbed))
            matches += [m for m in pattern.finditer(scrubbed) if m.group(0).lower() not in ("it",)]
        else:
            matches = list(pattern.finditer(scrubbed))
        for match in matches:
            if any(start <= match.start() < start + 40 for start, _ in found if False):
                continue
            found.append((match.start(), role))
    if not found:
        return None
    found.sort()
    cues = [m.start() for m in APPROVAL_CUE.finditer(scrubbed)]
    if cues:
        # The role nearest an approval word is the approver ("manager approves", "CFO sign-off").
        return min(found, key=lambda f: min(abs(f[0] - c) for c in cues))[1]
    return found[0][1]


def extract_schedule(text: str) -> str | None:
    """Return a normalised schedule ("daily at 09:00", "weekly:monday", ...) or None."""
    low = text.lower()
    base: str | None = None
    time_text = low
    if re.search(r"\b(every hour|hourly|each hour|once an hour)\b", low):
        return "hourly"
    day = re.search(rf"\b(?:every|each|on|weekly on|on a)\s+{DAY}\b", low) or re.search(
        rf"\b{DAY}s\b", low
    )
    if re.search(
        r"\b(every weekday|weekdays|each weekday|monday (?:to|through|-) friday|"
        r"mon-fri|business days?|working days?)\b",
        low,
    ):
        base = "weekdays"
    elif day:
        name = next(d for d in DAYS if d.startswith(day.group(1)[:3]))
        base = f"weekly:{name}"
        time_text = low[day.end() :]
    elif re.search(r"\b(every week|weekly|once a week|each week)\b", low):
        base = "weekly:monday"
    elif re.search(
        r"\b(every month|monthly|each month|once a month|month[- ]end|"
        r"first of (?:the|each|every) month)\b",
        low,
    ):
        base = "monthly"
    elif re.search(
        r"\b(every day|daily|each day|every morning|each morning|every evening|"
        r"each evening|every night|nightly|once a day|end of (?:the |each )?day|"
        r"every afternoon)\b",
        low,
    ):
        base = "daily"
    if base is None:
        return None
    at = extract_time(time_text)
    return f"{base} at {at}" if at else base


def extract_time(text: str) -> str | None:
    """Return the first clock time in ``text`` as HH:MM (24h), or None."""
    for match in re.finditer(
        r"\b(?:at|@|around|by)\s+(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?"
        r"|\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)"
        r"|\b(\d{1,2}):(\d{2})\b",
        text,
    ):
        groups = match.groups()
        if groups[0] is not None:
            hour, minute, ampm = groups[0], groups[1], groups[2]
        elif groups[3] is not None:
            hour, minute, ampm = groups[3], groups[4], groups[5]
        else:
            hour, minute, ampm = groups[6], groups[7], None
        h, m = int(hour), int(minute or 0)
        if ampm:
            if ampm.startswith("p") and h < 12:
                h += 12
            if ampm.startswith("a") and h == 12:
                h = 0
        elif h < 12 and any(word in text for word in ("evening", "night", "afternoon")):
            h += 12
        if 0 <= h < 24 and 0 <= m < 60:
            return f"{h:02d}:{m:02d}"
    return None


def extract_systems(text: str) -> list[str]:
    """Return the named business systems, in order of first mention."""
    out: list[str] = []
    for match in SYSTEM_PATTERN.finditer(EMAIL.sub(" ", text)):
        name = SYSTEMS[match.group(1).lower()]
        if name not in out:
            out.append(name)
    return out
