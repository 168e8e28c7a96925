"""Each new version says what changed: settings, names, order, added and removed steps."""

from __future__ import annotations

from assistant.changes import describe_changes
from assistant.review import apply_edit, edited_steps
from tests.assistant.test_diagram import invoice


def test_a_changed_channel_threshold_and_role_are_named() -> None:
    v1 = invoice()
    steps = [s.model_dump() for s in v1.steps]
    steps[0]["condition"] = "amount > 20000"
    steps[1]["approver_role"] = "ceo"
    steps[4]["params"] = {**steps[4]["params"], "channel": "#ops"}
    v2 = apply_edit(v1, {"workflow": {"steps": steps}})
    assert describe_changes(v1, v2) == [
        "step 1 (Check the amount): condition amount > 10000 → amount > 20000",
        "step 2 (CFO signs off): signs off cfo → ceo",
        "step 5 (Post a summary in the finance channel): channel #finance → #ops",
    ]


def test_moves_renames_and_removals_are_named_in_the_new_numbering() -> None:
    v1 = invoice()
    steps = [s.model_dump() for s in v1.steps]
    moved = [steps[4], steps[0], steps[1]]  # summary first; the CEO tier removed
    moved[1] = {**moved[1], "title": "Is it over 10k?"}
    v2 = apply_edit(v1, {"workflow": {"steps": moved}})
    changes = describe_changes(v1, v2)
    assert "step 1 (Post a summary in the finance channel) moved: it was step 5" in changes
    assert "step 2 renamed: “Check the amount” → “Is it over 10k?”" in changes
    assert "removed: Check for very large (was step 3)" in changes
    assert "removed: CEO co-signs (was step 4)" in changes


def test_the_form_changes_where_an_action_goes_its_threshold_role_and_order() -> None:
    v1 = invoice()
    submitted = [
        {"id": "s5", "title": v1.steps[4].title, "setting": "#ops"},
        {"id": "s1", "title": "Check the amount", "setting": "amount > 50000"},
        {"id": "s2", "title": "CFO signs off", "setting": "controller"},
    ]
    steps = edited_steps(v1, submitted)
    assert steps is not None
    assert [s["title"] for s in steps] == [
        "Post a summary in the finance channel",
        "Check the amount",
        "CFO signs off",
    ]
    assert steps[0]["params"]["channel"] == "#ops"
    assert steps[1]["condition"] == "amount > 50000"
    assert steps[2]["approver_role"] == "controller"


def test_recipients_are_a_list_and_an_untouched_form_changes_nothing() -> None:
    v1 = invoice()
    email = v1.steps[4].model_copy(
        update={
            "connector": "email",
            "operation": "send_email",
            "params": {"to": ["ap@x.example"], "subject": "s", "body": "b"},
        }
    )
    v1 = v1.model_copy(update={"steps": [*v1.steps[:4], email]}).sealed()
    same = [{"id": s.id, "title": s.title} for s in v1.steps]
    assert edited_steps(v1, same) is None
    steps = edited_steps(v1, [*same[:4], {**same[4], "setting": "a@x.example, b@x.example"}])
    assert steps is not None and steps[4]["params"]["to"] == ["a@x.example", "b@x.example"]
