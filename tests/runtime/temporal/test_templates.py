"""Placeholders render from the event, strictly and inside a sandbox."""

from __future__ import annotations

import pytest

from assistant.runtime.templates import MissingValue, RenderError, render_params

EVENT = {"invoice": {"number": "INV-7", "amount": 12500, "lines": [1, 2]}, "id": "e1"}


def test_text_is_filled_and_a_whole_placeholder_keeps_its_type() -> None:
    params = {
        "text": "Invoice {{invoice.number}} for {{ invoice.amount }}",
        "amount": "{{invoice.amount}}",
    }
    assert render_params(params, EVENT, {}) == {"text": "Invoice INV-7 for 12500", "amount": 12500}


def test_nested_params_and_earlier_outputs_are_rendered() -> None:
    params = {"payload": {"ref": "{{steps.s1.external_id}}", "tags": ["{{invoice.number}}"]}}
    rendered = render_params(params, EVENT, {"s1": {"external_id": "erp-9"}})
    assert rendered == {"payload": {"ref": "erp-9", "tags": ["INV-7"]}}


@pytest.mark.parametrize(
    "template",
    ["{{invoice.due_date}}", "Due {{invoice.due_date}}", "Due {{ invoice.due_date | upper }}"],
)
def test_a_missing_value_names_the_field(template: str) -> None:
    with pytest.raises(MissingValue) as raised:
        render_params({"text": template}, EVENT, {})
    assert raised.value.field == "invoice.due_date"


def test_the_sandbox_refuses_reaching_into_python() -> None:
    with pytest.raises(MissingValue):
        render_params({"text": "{{ invoice.__class__.__mro__ }}"}, EVENT, {})
    with pytest.raises(RenderError):
        render_params({"text": "{{ (invoice.number).__class__.__mro__ }}"}, EVENT, {})
