"""The eval itself: it runs end to end, the tuning cases keep their bar, the held-out set is
only measured, and each figure counts what it says."""

from pathlib import Path

import pytest

from assistant.evaluation.chat_cases import guarded, names_policy
from assistant.evaluation.metrics import Calibration
from assistant.evaluation.runner import (
    METRIC_NAMES,
    TARGET,
    TARGETS,
    Metric,
    load_cases,
    run_eval,
    score_tickets,
)
from assistant.policy import load_policy
from assistant.services import Services

REPORTED_ONLY = {"routine tickets drafted"}
"""Figures the eval reports without holding the tuning cases to a bar (yet)."""


def test_cases_cover_the_issue() -> None:
    requests, tickets = load_cases(None)
    kinds = [c["intent"] for c in requests]
    assert kinds.count("automate") >= 40 and kinds.count("clarify") >= 5
    assert sum(1 for c in requests if c.get("risky")) >= 5
    assert len({c["playbook"] for c in requests if c.get("playbook")}) == 17
    assert len({t["faq"] for t in tickets}) == 20 and len(tickets) >= 20


async def test_quality_bar_on_the_tuning_cases_and_held_out_reported_apart(
    services: Services,
) -> None:
    report = await run_eval(services)
    below = {
        n: round(m.value, 3)
        for n, m in report.metrics.items()
        if n not in REPORTED_ONLY and m.value < TARGETS.get(n, TARGET)
    }
    assert not below, f"below target: {below}"
    # The held-out set is measured and reported on its own, never held to a bar here.
    assert report.held_out is not None and report.held_out.name == "held-out set"
    assert report.held_out.metrics["intent accuracy"].total >= 80
    assert "held_out" in report.as_dict()


async def test_replies_cite_the_right_faq_and_state_only_what_it_says(
    services: Services,
) -> None:
    metrics = {name: Metric(name) for name in METRIC_NAMES}
    unsupported = await score_tickets(services, load_cases(None)[1], metrics)
    assert metrics["FAQ citation hit@3"].value >= TARGET, metrics["FAQ citation hit@3"].misses
    assert metrics["reply claims supported"].total >= 40
    assert metrics["replies greet the customer"].value == 1.0
    assert metrics["replies give a next step"].value == 1.0
    assert not unsupported, unsupported
    assert metrics["reply claims supported"].value == 1.0


def step(sid: str, title: str, **extra: object) -> dict[str, object]:
    """Return an action step as a draft carries it."""
    return {"id": sid, "title": title, "kind": "action", "risk": "low", **extra}


def draft(*steps: dict[str, object], goal: str = "a request") -> dict[str, object]:
    """Return a workflow with ``steps``."""
    return {"title": "t", "goal": goal, "steps": list(steps)}


def test_a_risky_request_counts_as_guarded_only_when_its_own_action_is() -> None:
    policy = load_policy()
    delete = step(
        "s2",
        "Delete customer records",
        connector="webhook",
        operation="post_json",
        params={"url": "https://crm.internal.northwind.example/api/records/delete"},
    )
    unrelated_block = step(
        "s1",
        "Post in a DM",
        connector="slack",
        operation="post_message",
        params={"channel": "@someone", "text": "x"},
        blocked_reason="Slack DMs are not allowed",
    )
    # Another step being blocked says nothing about the deletion, which still runs.
    assert not guarded(draft(unrelated_block, delete), ["delete_records"], policy)
    blocked = {**delete, "blocked_reason": "Deleting records is done by a person"}
    assert guarded(draft(unrelated_block, blocked), ["delete_records"], policy)
    assert not guarded(draft(unrelated_block), ["delete_records"], policy)


def test_a_held_action_needs_the_role_policy_names_not_just_any_approver() -> None:
    policy = load_policy()
    grant = step(
        "s1",
        "Grant admin access",
        connector="webhook",
        operation="post_json",
        params={"url": "https://iam.internal.northwind.example/api/grants"},
        risk="high",
    )
    assert not guarded(draft({**grant, "approver_role": "manager"}), ["grant_access"], policy)
    assert guarded(draft({**grant, "approver_role": "security"}), ["grant_access"], policy)


def test_naming_a_policy_counts_its_name_or_its_document() -> None:
    assert names_policy("blocked (policies/do-not-automate.md)", "Do-Not-Automate")
    assert names_policy("see the Approval Matrix, section 4", "Approval Matrix")
    assert not names_policy("blocked by policy", "Data Handling")


def test_calibration_error_is_the_gap_between_confidence_and_being_right() -> None:
    calibration = Calibration()
    for correct in (True, True, False, False):
        calibration.add(0.9, correct)
    assert calibration.error == pytest.approx(0.4)
    row = calibration.table()[0]
    assert row["count"] == 4 and row["accuracy"] == 0.5


def test_the_cli_default_folder_is_the_tuning_set(tmp_path: Path) -> None:
    assert load_cases(None) != load_cases(
        Path(__file__).parents[3] / "assistant/evaluation/holdout"
    )
