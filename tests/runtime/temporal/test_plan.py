"""Guards, sign-off roles for the real amount, and who may decide."""

from __future__ import annotations

from assistant.policy import load_policy
from assistant.runtime.plan import Decision, RunPlan, Waiting, guards
from assistant.runtime.signoffs import event_amount, needed_roles, raised, refusal, requesters_of
from tests.runtime.temporal.conftest import invoice, invoice_draft

POLICY = load_policy()
PLAN = RunPlan(grants=dict(POLICY.approvals.grants))


def test_each_condition_guards_its_sign_off_and_the_summary_always_runs() -> None:
    draft = invoice_draft()
    kinds = {s.id: s.kind for s in draft.steps}
    found = guards(draft)
    assert [kinds[c] for c in found] == ["condition", "condition"]
    assert [[kinds[s] for s in guarded] for guarded in found.values()] == [["approval"]] * 2
    last = draft.steps[-1]
    assert last.kind == "action" and all(last.id not in g for g in found.values())


def test_the_approval_matrix_applies_to_the_events_real_amount() -> None:
    assert event_amount(invoice(150000), POLICY) == 150000
    grants = PLAN.grants
    top = RunPlan(tier=POLICY.roles_for_amount(150000), grants=grants)
    assert needed_roles("cfo", top, later=[], signed=[]) == ["cfo", "ceo"]
    assert needed_roles("cfo", top, later=["ceo"], signed=[]) == ["cfo"]
    assert needed_roles("ceo", top, later=[], signed=["cfo"]) == ["ceo"]
    assert raised("controller", POLICY.roles_for_amount(50000), grants) == "cfo"
    assert raised("ceo", POLICY.roles_for_amount(50000), grants) == "ceo"


def test_refusals_name_the_reason_and_the_role() -> None:
    event = invoice(50000)
    assert requesters_of(event) == ["sam"]
    waiting = Waiting(step_id="s3", kind="approval", needed=["cfo"])

    def why(user: str, roles: list[str] | None, step: str = "s3", signed: str = "") -> str:
        decision = Decision(step_id=step, user=user, roles=roles, accept=True)
        return refusal(decision, waiting, PLAN, event, {signed}) or ""

    assert "cfo" in why("ana", ["ap_clerk"])
    assert "separation of duties" in why("sam", ["cfo"])
    assert "not a known user" in why("eve", None)
    assert "already signed" in why("carla", ["cfo"], signed="carla")
    assert "not waiting" in why("carla", ["cfo"], step="s5")
    assert why("carla", ["cfo"]) == "" and why("dan", ["ceo"]) == ""
