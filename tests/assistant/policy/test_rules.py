"""The policy file: it loads, it fails clearly, and it agrees with the shipped documents."""

import re
from pathlib import Path

import pytest

from assistant.policy import PolicyError, load_policy
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
