"""Typed conditions: parsed, rendered back, evaluated on event values without ``eval``."""

from pathlib import Path

import pytest
import yaml

from assistant.policy.conditions import (
    Comparison,
    ConditionError,
    MissingField,
    comparisons,
    evaluate,
    parse,
    problem,
    render,
)

PLAYBOOKS = Path(__file__).resolve().parents[3] / "knowledge" / "library" / "playbooks"


def test_comparisons_join_with_and_or_and_parentheses() -> None:
    parsed = parse("a.x > 10,000 and (b == 'y' or c in ['p', 'q'])")
    assert comparisons(parsed) == [
        Comparison("a.x", ">", 10000),
        Comparison("b", "==", "y"),
        Comparison("c", "in", ("p", "q")),
    ]
    assert parse(render(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("invoice.amount > 10000", {"invoice": {"amount": 12500}}, True),
        ("invoice.amount > 10000", {"invoice.amount": "9,999"}, False),
        ("a == 1 or b == 2 and c == 3", {"a": 1, "b": 0, "c": 0}, True),
        ("(a == 1 or b == 2) and c == 3", {"a": 1, "b": 0, "c": 0}, False),
        ("tags contains 'admin'", {"tags": ["admin", "dev"]}, True),
        ("sev not in ['SEV1', 'SEV2']", {"sev": "SEV3"}, True),
        ("flag == true", {"flag": "true"}, True),
    ],
)
def test_evaluate_on_event_values(text: str, values: dict[str, object], expected: bool) -> None:
    assert evaluate(text, values) is expected


def test_evaluation_fails_loudly_on_missing_or_wrong_values() -> None:
    with pytest.raises(MissingField, match=r"invoice\.amount"):
        evaluate("invoice.amount > 1", {"invoice": {}})
    with pytest.raises(ConditionError, match="not a number"):
        evaluate("invoice.amount > 1", {"invoice": {"amount": "lots"}})


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('x')",
        "abs(grade.score - 70) <= 5",
        "amount >",
        "amount > 'ten'",
        "amount in 5",
        "(amount > 1",
        "amount > 1 amount < 2",
        "",
    ],
)
def test_anything_else_is_a_problem_that_says_why(text: str) -> None:
    assert problem(text)


def test_every_playbook_condition_parses() -> None:
    found = 0
    for path in PLAYBOOKS.glob("*.md"):
        front = yaml.safe_load(path.read_text().split("---")[1])
        for step in front.get("steps") or []:
            if step.get("condition"):
                text = step["condition"].replace("{amount_threshold}", "5000")
                assert problem(text) is None, (path.name, text)
                found += 1
    assert found >= 20
