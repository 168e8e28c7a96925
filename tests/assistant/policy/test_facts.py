"""Approvals follow facts: money fields, stated amounts, endpoints; never titles or edits."""

import pytest

from assistant.policy import PolicyChecker, load_policy
from assistant.schemas import Step, WorkflowDraft

checker = PolicyChecker()
PAYMENTS = "https://payments.internal.northwind.example/api/transfers"


def check(goal: str, *steps: Step):  # type: ignore[no-untyped-def]
    return checker.verdict(WorkflowDraft(title="t", goal=goal, steps=list(steps)).sealed())


def hook(title: str, url: str, **payload: object) -> Step:
    params = {"url": url, "payload": payload or {"note": "x"}}
    return Step(
        id="s",
        title=title,
        kind="action",
        connector="webhook",
        operation="post_json",
        params=params,
    )


def slack(title: str = "Post") -> Step:
    params = {"channel": "#finance", "text": "done"}
    return Step(
        id="s",
        title=title,
        kind="action",
        connector="slack",
        operation="post_message",
        params=params,
    )


def condition(expression: str) -> Step:
    return Step(id="c", title="Check", kind="condition", condition=expression)


def approval(role: str) -> Step:
    return Step(id="a", title=f"Sign-off by {role}", kind="approval", approver_role=role)


def test_a_follower_count_is_not_an_amount() -> None:
    verdict = check(
        "pay influencers", condition("mention.author_followers > 250000"), hook("Pay", PAYMENTS)
    )
    assert verdict.required_roles == ["cfo"]


@pytest.mark.parametrize(
    "goal",
    [
        "wire five hundred thousand dollars to our supplier",
        "wire $500,000 to our supplier",
        "wire 0.5 million dollars to our supplier",
    ],
)
def test_the_amount_the_request_states_picks_the_tier(goal: str) -> None:
    verdict = check(goal, approval("cfo"), approval("ceo"), hook("Move money", PAYMENTS))
    assert verdict.required_roles == ["cfo", "ceo"]


def test_money_in_action_params_picks_the_tier() -> None:
    verdict = check("sync", hook("Sync the ledger", PAYMENTS, amount="$150,000"))
    assert verdict.required_roles == ["cfo", "ceo"]


@pytest.mark.parametrize(
    "url",
    [
        "https://payments.internal.northwind.example/api/%74ransfers",
        "https://payments.internal.northwind.example/api/%2574ransfers",
        "https://PAYMENTS.internal.northwind.example/API/Transfers",
        "https://payments.internal.northwind.example/api/x/../transfers",
        "https://payments.internal.northwind.example//api//./transfers/",
        "https://payments.internal.northwind.example/api/transfers?batch=1",
        "https://payments.internal.northwind.example./api/transfers/new",
    ],
)
def test_a_money_endpoint_is_money_however_it_is_written(url: str) -> None:
    verdict = check("keep the books tidy", hook("Sync the ledger", url))
    step = verdict.draft.steps[0]
    assert step.risk == "high" and step.approver_role == "cfo"
    assert verdict.required_roles == ["cfo"] and verdict.risk == "high"


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.internal.northwind.example/api/records/%64elete",
        "https://crm.internal.northwind.example/api/records/./Delete/",
    ],
)
def test_a_blocked_endpoint_stays_blocked_however_it_is_written(url: str) -> None:
    step = check("tidy up", hook("Archive old rows", url)).draft.steps[0]
    assert step.blocked_reason and "do-not-automate" in step.blocked_reason


def test_an_operation_listed_on_an_item_is_that_item() -> None:
    policy = load_policy()
    item = policy.do_not_automate[0].model_copy(update={"operations": ["slack.post_message"]})
    custom = PolicyChecker(policy.model_copy(update={"do_not_automate": [item]}))
    verdict = custom.verdict(WorkflowDraft(title="t", goal="g", steps=[slack("Hello")]).sealed())
    assert verdict.draft.steps[0].blocked_reason


def test_the_requests_money_intent_counts_after_its_step_is_removed() -> None:
    verdict = check("wire $500,000 to our supplier", condition("invoice.amount > 500"), slack())
    assert verdict.required_roles == ["cfo", "ceo"] and verdict.risk == "high"
    warning = " ".join(verdict.warnings)
    assert "Missing sign-off" in warning and "cfo and ceo" in warning and "500,000" in warning
    manager = checker.authorize(
        verdict,
        approver="bob",
        approver_roles=["manager"],
        requesters=["ana"],
        prior=[],
        open_mode=False,
    )
    assert not manager.allowed


def test_a_removed_approval_step_is_named_in_the_verdict() -> None:
    full = check(
        "wire $500,000 to our supplier", approval("cfo"), approval("ceo"), hook("Pay", PAYMENTS)
    )
    assert not any("Missing sign-off" in w for w in full.warnings)
    without_ceo = check("wire $500,000 to our supplier", approval("cfo"), hook("Pay", PAYMENTS))
    warning = next(w for w in without_ceo.warnings if "Missing sign-off" in w)
    assert "no approval step for ceo" in warning
    assert without_ceo.required_roles == ["cfo", "ceo"]


def test_a_condition_that_does_not_parse_is_marked_not_ignored() -> None:
    verdict = check("x", condition("invoice.amount >> lots"), slack())
    assert "does not parse" in (verdict.draft.steps[0].blocked_reason or "")
    assert any("s1" in w and "does not parse" in w for w in verdict.warnings)
