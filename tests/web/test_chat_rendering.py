"""What the web chat shows of a draft, its review and its buttons, without a browser."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.review import workflow_review
from assistant.schemas import Step, WorkflowDraft
from assistant.settings import Settings
from assistant.web.history import prepare_history
from assistant.web.server import PROJECT_ROOT
from tests.assistant.test_diagram import invoice

BLOCKED = (
    "payments are never automated: the Do-not-automate list holds every transfer of money "
    "until a person with the treasury role has read it and approved it"
)


def with_blocked_step() -> WorkflowDraft:
    """The invoice draft with a seventh step policy blocks, its reason a long sentence."""
    draft = invoice()
    pay = Step(
        id="x",
        title="Pay the invoice",
        kind="action",
        connector="webhook",
        operation="post_json",
        params={"url": "https://pay.example/run"},
        risk="high",
        blocked_reason=BLOCKED,
    )
    task = Step(id="x", title="File the paper copy", kind="human_task", approver_role="it")
    return draft.model_copy(update={"steps": [*draft.steps, task, pay]}).sealed()


def test_the_table_numbers_steps_and_separates_who_acts_in_each_run() -> None:
    from assistant.web.drafts import steps_table

    table = steps_table(with_blocked_step())
    header = next(line for line in table.splitlines() if line.startswith("| step"))
    assert "in each run" in header and "approver" not in header
    rows = {
        line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")
    }
    assert "cfo signs off" in rows["2"]
    assert "it does it" in rows["6"]
    # The reason is shown in full, outside the table, under the number the table uses.
    assert BLOCKED not in rows["7"]
    assert f"Step 7 is blocked by policy and will not run:** {BLOCKED[:20]}" in table.replace(
        "\\", ""
    )


def test_the_review_says_step_numbers_and_who_makes_the_version_live() -> None:
    draft = with_blocked_step()
    notice = "Step s7 is marked: payments are never automated."
    description = workflow_review(draft, notice, roles=["cfo"]).description
    assert "Approval needed to make v1 live: cfo." in description
    assert "Blocked by policy (will not run): step 7." in description
    assert "Note: Step 7 is marked" in description
    assert "s7" not in description and "s2." not in description


def test_buttons_name_their_version_and_keep_one_id_per_review() -> None:
    from assistant.web.drafts import review_actions

    draft = invoice().next_version(title="Invoices")
    request = workflow_review(draft, roles=["cfo"])
    actions = review_actions(request, "t1")
    assert [a.label for a in actions] == ["Approve v2", "Edit v2", "Reject v2"]
    assert "version 2" in actions[0].tooltip
    assert [a.id for a in actions] == [a.id for a in review_actions(request, "t1")]
    older = review_actions(workflow_review(invoice(), roles=["cfo"]), "t1")
    assert not {a.id for a in older} & {a.id for a in actions}


def test_a_new_version_says_what_changed() -> None:
    from assistant.web.drafts import steps_table

    v1 = invoice()
    v2 = v1.next_version(
        steps=[*v1.steps[:4], v1.steps[4].model_copy(update={"params": {"channel": "#ops"}})]
    )
    shown = steps_table(v2, v1).replace("\\", "")  # as read: Markdown escapes are not shown
    assert "What changed since v1:" in shown
    assert "step 5 (Post a summary in the finance channel): channel #finance → #ops" in shown


def test_a_sandboxed_run_says_nothing_left_the_building() -> None:
    from assistant.web.drafts import run_notes

    run = {
        "steps": [
            {"title": "Check", "detail": "amount > 10000: true"},
            {
                "title": "Post a summary",
                "detail": "sandbox: would slack.post_message channel=#finance "
                "(set SLACK_BOT_TOKEN to post for real)",
            },
        ]
    }
    notes = run_notes(run)
    assert len(notes) == 1 and notes[0].startswith("Step 2 (Post a summary)")
    assert "nothing left the building" in notes[0] and "SLACK_BOT_TOKEN" in notes[0]


async def test_the_history_store_names_button_threads_in_words_and_skips_elements_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CHAINLIT_APP_ROOT", str(PROJECT_ROOT))
    import chainlit.data
    from chainlit.context import init_http_context
    from chainlit.element import Text

    from assistant.web.quiet import build_quiet_data_layer

    settings = Settings(home=tmp_path)
    prepare_history(settings)
    layer = build_quiet_data_layer(settings)
    monkeypatch.setattr(chainlit.data, "_data_layer", layer)
    monkeypatch.setattr(chainlit.data, "_data_layer_initialized", True)
    init_http_context(thread_id="chat-1")
    await layer.update_thread("chat-1", name="open_queue")
    thread = await layer.get_thread("chat-1")
    assert thread is not None and thread["name"] == "Support queue"
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            await layer.create_element(Text(content="x", for_id="m1", thread_id="chat-1"))
    assert not [r for r in caplog.records if "blob_storage" in r.getMessage()]
    await layer.engine.dispose()


def test_the_page_links_nothing_on_other_hosts() -> None:
    import os

    import chainlit.server

    from assistant.web.page import local_only

    with open(os.path.join(chainlit.server.build_dir, "index.html"), encoding="utf-8") as f:
        page = local_only(f.read())
    assert "https://" not in page.replace("https://github.com/Chainlit", "")
    assert '<script type="module"' in page and 'rel="stylesheet"' in page  # its own assets stay
