"""The policy file: it loads, it fails clearly, and it agrees with the shipped documents."""

import re
from pathlib import Path

import pytest

from assistant.policy import PolicyError, load_policy
from assistant.policy.rules import DEFAULT_POLICY
from assistant.settings import Settings

POLICY = load_policy()
LIBRARY = Settings().library


def test_default_policy_loads_with_every_list_item() -> None:
    names = {item.name for item in POLICY.do_not_automate}
    assert names == {
        "delete_records",
        "move_money",
        "bank_details",
        "grant_access",
        "terminate",
        "credit_decision",
        "legal_reply",
        "personal_data_out",
    }


def test_bad_policy_files_fail_with_the_place_named(tmp_path: Path) -> None:
    broken = tmp_path / "p.yaml"
    broken.write_text("risk: {slack.post_message: extreme}\n")
    with pytest.raises(PolicyError, match="risk"):
        load_policy(broken)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")


def test_do_not_automate_document_agrees_with_the_policy() -> None:
    text = (LIBRARY / "policies" / "do-not-automate.md").read_text()
    sections = re.split(r"\n### \d+\. ", text)
    by_heading = {s.splitlines()[0].strip(): s for s in sections[1:]}
    for item in POLICY.do_not_automate:
        assert item.heading in by_heading, item.heading
        what = re.search(r"\*\*What happens:\*\*(.*)", by_heading[item.heading]).group(1).lower()  # type: ignore[union-attr]
        word = "blocked" if item.action == "block" else "requires approval"
        assert word in what or (item.action == "require" and "requires" in what), (item.name, what)


def test_approval_matrix_document_agrees_with_the_tiers() -> None:
    text = (LIBRARY / "policies" / "approval-matrix.md").read_text()
    for tier in POLICY.approvals.amount_tiers[1:]:
        amount = f"{int(tier.above):,}"
        row = next(line for line in text.splitlines() if line.startswith(f"| above {amount}"))
        for role in tier.roles:
            assert role in row, (amount, role, row)
    for tier in POLICY.approvals.refund_tiers:
        amount = f"{int(tier.above):,}"
        row = next(line for line in text.splitlines() if line.startswith(f"| above {amount}"))
        assert tier.roles[0] in row
    for host in POLICY.destinations.webhook_hosts:
        assert host.replace("*.", "") in text
    assert (
        "may **not** approve it" in text
        and POLICY.separation_of_duties.requester_may_not_approve_high_risk
    )


def test_approval_matrix_document_agrees_with_the_deadlines() -> None:
    text = (LIBRARY / "policies" / "approval-matrix.md").read_text()
    line = next(s for s in text.splitlines() if s.startswith("Approvers should decide within"))
    decide_days, quick_hours, expire_days = (int(n) for n in re.findall(r"(\d+) business", line))
    quick_for = re.search(r"hours for (.+?)\)", line).group(1)  # type: ignore[union-attr]
    approvals = POLICY.approvals
    # A business day counts as 24 hours for escalation; 5 business days as a 168-hour week.
    assert approvals.deadlines["default"].escalate_after == decide_days * 24
    for topic in ("refund", "incident"):
        assert topic in quick_for
        deadline = approvals.deadline_for(f"Handle a {topic}")
        assert deadline is not None and deadline.escalate_after == quick_hours
    for deadline in approvals.deadlines.values():
        assert deadline.expire_after == expire_days / 5 * 7 * 24
    assert approvals.deadline_for("Vendor invoice triage") == approvals.deadlines["default"]


def test_deadlines_out_of_order_fail_with_the_place_named(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text()
    broken = tmp_path / "p.yaml"
    broken.write_text(
        text.replace(
            "default: {remind_after: 24, escalate_after: 48, expire_after: 168}",
            "default: {remind_after: 24, escalate_after: 200, expire_after: 168}",
        )
    )
    with pytest.raises(PolicyError, match=r"deadlines\.default"):
        load_policy(broken)
