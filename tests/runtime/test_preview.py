"""A test run shows which steps a sample event would take, with the rendered values."""

from __future__ import annotations

import pytest

from assistant.policy.rules import load_policy
from assistant.runtime.preview import preview
from assistant.runtime.steps import MissingEventFields
from tests.runtime.conftest import invoice, invoice_draft


async def test_a_test_run_shows_the_branches_and_values_without_acting() -> None:
    run = await preview(invoice_draft(), invoice(50_000), policy=load_policy())
    assert run.shadow and run.status == "completed"
    steps = {step.step_id: step for step in run.steps}
    assert steps["s3"].detail == "would wait for cfo"
    assert steps["s5"].status == "skipped"
    assert steps["s6"].input["text"] == "Invoice INV-204 from Acme Freight for 50000 USD is logged."
    assert all(step.output.get("performed") is False for step in run.steps if step.kind == "action")


async def test_a_test_run_refuses_a_sample_missing_a_field() -> None:
    event = invoice(50_000)
    del event["invoice"]["amount"]
    with pytest.raises(MissingEventFields, match=r"invoice\.amount"):
        await preview(invoice_draft(), event, policy=load_policy())
