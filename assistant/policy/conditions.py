"""Typed workflow conditions: parse ``Step.condition`` text, inspect it, evaluate it safely.

A condition is comparisons of an event field with a literal, joined by ``and`` / ``or``
(``and`` binds tighter; parentheses group)::

    invoice.amount > 10000 and (vendor.country != 'US' or vendor.is_new == true)
    incident.severity in ['SEV1', 'SEV2']
    employee.requested_access contains 'admin'

Operators: ``== != > >= < <= in not in contains``. Values: numbers (``10,000`` and a leading
currency sign are allowed), quoted strings, ``true``/``false``/``null`` and lists of those.
Nothing is ever handed to ``eval``: the text is tokenised, parsed into the dataclasses below,
and evaluated by walking them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

Operator = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not in", "contains"]
Scalar = str | int | float | bool | None
Value = Scalar | tuple[Scalar, ...]
ORDERING = (">", ">=", "<", "<=")


class ConditionError(ValueError):
    """Raised when a condition does not parse or cannot be evaluated on the given values."""


class MissingField(ConditionError):
    """Raised when the values lack a field the condition compares."""

    def __init__(self, field: str) -> None:
        super().__init__(f"the event has no value for {field}")
        self.field = field


@dataclass(frozen=True)
class Comparison:
    """One comparison of an event field with a literal value."""

    field: str
    operator: Operator
    value: Value


@dataclass(frozen=True)
class Junction:
    """Two or more conditions joined by ``and`` or ``or``."""

    joiner: Literal["and", "or"]
    parts: tuple[Condition, ...]


Condition = Comparison | Junction

TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>-?[$€£]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w.]))
    |(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<op>==|!=|>=|<=|>|<|=)
    |(?P<punct>[()\[\],])
    |(?P<word>[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "contains", "true", "false", "null", "none"}
NAMES = {"op": "an operator (==, !=, >, >=, <, <=, in, contains)", "word": "a field name"}
LITERALS: dict[str, Scalar] = {"true": True, "false": False, "null": None, "none": None}


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split condition text into (kind, text) tokens, or raise naming the first bad character."""
    tokens: list[tuple[str, str]] = []
    at = 0
    text = text.rstrip()
    while at < len(text):
        match = TOKEN.match(text, at)
        if not match or match.end() == at:
            raise ConditionError(f"unexpected {text[at:].strip()[:20]!r}")
        kind = match.lastgroup or ""
        word = match[kind]
        if kind == "word" and word.lower() in KEYWORDS:
            kind = word.lower()
        elif kind == "punct":
            kind = word
        tokens.append((kind, word))
        at = match.end()
    return tokens


class Parser:
    """Recursive-descent parser over the tokens of one condition."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0

    def peek(self) -> str:
        """Return the kind of the next token ('' at the end)."""
        return self.tokens[self.at][0] if self.at < len(self.tokens) else ""

    def take(self, *kinds: str) -> str:
        """Consume the next token, which must be one of ``kinds``; return its text."""
        if self.peek() not in kinds:
            found = self.tokens[self.at][1] if self.at < len(self.tokens) else "the end"
            wanted = " or ".join(NAMES.get(kind, repr(kind)) for kind in kinds)
            raise ConditionError(f"expected {wanted}, found {found!r}")
        self.at += 1
        return self.tokens[self.at - 1][1]

    def parse(self) -> Condition:
        """Parse the whole text."""
        if not self.tokens:
            raise ConditionError("the condition is empty")
        condition = self.junction("or")
        if self.peek():
            raise ConditionError(f"unexpected {self.tokens[self.at][1]!r}")
        return condition

    def junction(self, joiner: Literal["and", "or"]) -> Condition:
        """Parse operands joined by ``joiner`` (``or`` of ``and``s of factors)."""
        parts = [self.factor() if joiner == "and" else self.junction("and")]
        while self.peek() == joiner:
            self.take(joiner)
            parts.append(self.factor() if joiner == "and" else self.junction("and"))
        return parts[0] if len(parts) == 1 else Junction(joiner, tuple(parts))

    def factor(self) -> Condition:
        """Parse a parenthesised condition or one comparison."""
        if self.peek() == "(":
            self.take("(")
            inner = self.junction("or")
            self.take(")")
            return inner
        field = self.take("word")
        operator = self.operator()
        value = self.value()
        if (operator in ("in", "not in")) != isinstance(value, tuple):
            raise ConditionError(
                f"a list goes with 'in' or 'not in' only, e.g. {field} in ['a', 'b']"
            )
        if operator in ORDERING and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConditionError(f"'{operator}' compares numbers, not {value!r}")
        return Comparison(field, operator, value)

    def operator(self) -> Operator:
        """Parse a comparison operator."""
        kind = self.peek()
        if kind == "not":
            self.take("not")
            self.take("in")
            return "not in"
        if kind in ("in", "contains"):
            self.take(kind)
            return "in" if kind == "in" else "contains"
        symbol = self.take("op")
        return "==" if symbol == "=" else symbol  # type: ignore[return-value]

    def value(self) -> Value:
        """Parse a literal: number, string, true/false/null, or a list of those."""
        if self.peek() == "[":
            self.take("[")
            items: list[Scalar] = []
            while self.peek() != "]":
                items.append(self.scalar())
                if self.peek() != "]":
                    self.take(",")
            self.take("]")
            return tuple(items)
        return self.scalar()

    def scalar(self) -> Scalar:
        """Parse one literal."""
        kind = self.peek()
        if kind == "number":
            number = float(re.sub(r"[$€£,]", "", self.take("number")))
            return int(number) if number.is_integer() else number
        if kind == "string":
            raw = self.take("string")
            return re.sub(r"\\(.)", r"\1", raw[1:-1])
        if kind in LITERALS:
            self.take(kind)
            return LITERALS[kind]
        found = self.tokens[self.at][1] if self.at < len(self.tokens) else "the end"
        raise ConditionError(f"expected a value, found {found!r} (quote text: 'like this')")


def parse(text: str) -> Condition:
    """Parse condition text into its typed form, or raise ``ConditionError`` saying why.

    Example:
        >>> parse("invoice.amount > 10,000 and vendor.is_new == true")
        Junction(joiner='and', parts=(Comparison(field='invoice.amount', operator='>', \
value=10000), Comparison(field='vendor.is_new', operator='==', value=True)))
    """
    return Parser(text).parse()


def problem(text: str | None) -> str | None:
    """Return why ``text`` is not a valid condition, or None when it parses."""
    if text is None or not text.strip():
        return "a condition step needs a condition, e.g. invoice.amount > 10000"
    try:
        parse(text)
    except ConditionError as exc:
        return f"the condition {text!r} does not parse: {exc}"
    return None


def comparisons(condition: Condition) -> list[Comparison]:
    """Return every comparison in ``condition``, left to right."""
    if isinstance(condition, Comparison):
        return [condition]
    return [c for part in condition.parts for c in comparisons(part)]


def replace_value(condition: Condition, target: Comparison, value: Value) -> Condition:
    """Return ``condition`` with the comparison ``target`` comparing against ``value``."""
    if isinstance(condition, Comparison):
        return replace(condition, value=value) if condition == target else condition
    return Junction(
        condition.joiner, tuple(replace_value(p, target, value) for p in condition.parts)
    )


def render(condition: Condition) -> str:
    """Write ``condition`` back as text that ``parse`` reads to the same condition."""
    if isinstance(condition, Comparison):
        return f"{condition.field} {condition.operator} {literal(condition.value)}"
    inner = [
        f"({render(p)})" if isinstance(p, Junction) and p.joiner != condition.joiner else render(p)
        for p in condition.parts
    ]
    return f" {condition.joiner} ".join(inner)


def literal(value: Value) -> str:
    """Write one literal value."""
    if isinstance(value, tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def lookup(values: Mapping[str, Any], field: str) -> Any:
    """Return the value of a dotted ``field`` from flat or nested ``values``."""
    if field in values:
        return values[field]
    current: Any = values
    for part in field.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            raise MissingField(field)
    return current


def evaluate(condition: Condition | str, values: Mapping[str, Any]) -> bool:
    """Tell whether ``condition`` holds for the event ``values``.

    Raises ``MissingField`` when a compared field is absent and ``ConditionError`` when a
    value has the wrong type (text compared as a number), so a run fails with a reason
    instead of silently taking a branch.

    Example:
        >>> evaluate("invoice.amount > 10000", {"invoice": {"amount": 12500}})
        True
    """
    parsed = parse(condition) if isinstance(condition, str) else condition
    if isinstance(parsed, Junction):
        results = (evaluate(p, values) for p in parsed.parts)
        return all(results) if parsed.joiner == "and" else any(results)
    return compare(parsed, lookup(values, parsed.field))


def compare(comparison: Comparison, actual: Any) -> bool:
    """Apply one comparison to the event's value."""
    op, expected = comparison.operator, comparison.value
    if isinstance(expected, tuple):
        found = any(same(actual, item) for item in expected)
        return found if op == "in" else not found
    if op == "contains":
        if isinstance(actual, str):
            return str(expected) in actual
        if isinstance(actual, list | tuple | set):
            return any(same(item, expected) for item in actual)
        raise ConditionError(f"{comparison.field} is not text or a list, so 'contains' fails")
    if op in ("==", "!="):
        return same(actual, expected) == (op == "==")
    number = as_number(actual, comparison.field)
    limit = float(expected)  # type: ignore[arg-type]
    return {
        ">": number > limit,
        ">=": number >= limit,
        "<": number < limit,
        "<=": number <= limit,
    }[op]


def same(actual: Any, expected: Scalar) -> bool:
    """Compare an event value with a literal, reading numbers and booleans given as text."""
    if isinstance(expected, bool):
        if isinstance(actual, str):
            return actual.strip().lower() == ("true" if expected else "false")
        return actual is expected or (not isinstance(actual, int | float) and actual == expected)
    if isinstance(expected, int | float) and not isinstance(actual, bool):
        try:
            return float(str(actual).replace(",", "")) == float(expected)
        except ValueError:
            return False
    return bool(actual == expected)


def as_number(actual: Any, field: str) -> float:
    """Read an event value as a number, or raise naming the field."""
    if isinstance(actual, bool):
        raise ConditionError(f"{field} is true/false, not a number")
    try:
        return float(str(actual).replace(",", "").lstrip("$€£"))
    except ValueError:
        raise ConditionError(f"{field} is {actual!r}, not a number") from None
