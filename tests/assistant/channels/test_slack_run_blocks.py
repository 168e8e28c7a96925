"""A run's values as a decider reads them in Slack: headings, amounts, dates, no JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.channels.slack.runs import label, one_line, readable, values_markdown, when
from assistant.policy import load_policy

POLICY = load_policy()


def test_an_invoice_reads_as_a_heading_and_one_line_per_field() -> None:
    event = {
        "id": "evt-77",
        "invoice": {
            "number": "INV-204",
            "vendor": "Acme",
            "amount": 52000,
            "currency": "USD",
            "due": "2026-12-12",
            "submitted_by": "ana",
        },
    }
    shown = values_markdown(event, POLICY)
    assert shown.splitlines() == [
        "*Invoice INV-204*",
        "• Vendor: Acme",
        "• Amount: 52,000 USD",
        "• Due: 12 Dec 2026",
        "• Submitted by: ana",
    ]
    assert one_line(event, POLICY) == "Invoice INV-204, Acme, 52,000 USD, 12 Dec 2026"
    assert "evt-77" not in shown and "{" not in shown


def test_nested_objects_lists_and_loose_values_are_spelled_out() -> None:
    event = {
        "claim": {
            "ref": "CL-9",
            "customer": {"name": "Dana Li", "tier": "gold"},
            "items": ["lamp", "desk"],
            "total": 1234.5,
            "urgent": True,
        },
        "channel": "email",
        "received_at": "2026-12-01T09:30:00Z",
    }
    shown = values_markdown(event, POLICY)
    assert "*Claim CL-9*" in shown
    assert "• Customer name: Dana Li" in shown and "• Customer tier: gold" in shown
    assert "• Items: lamp, desk" in shown and "• Total: 1,234.50" in shown
    assert "• Urgent: yes" in shown
    assert "• Channel: email" in shown and "• Received at: 1 Dec 2026 09:30 UTC" in shown


def test_long_values_are_cut_and_mrkdwn_is_escaped() -> None:
    shown = values_markdown({"note": "<!channel> " + "x" * 500}, POLICY)
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert len(shown) < 200 and shown.endswith("…")


def test_labels_and_times() -> None:
    assert label("submitted_by") == "Submitted by" and label("dueDate") == "Due date"
    assert when(datetime(2026, 12, 3, 14, 5, tzinfo=UTC)) == "3 Dec 2026 14:05 UTC"
    assert (
        readable(52000) == "52000" and readable(52000, money=True, currency="EUR") == "52,000 EUR"
    )
    assert readable("2026-13-45") == "2026-13-45"  # not a date: shown as it is


def test_inbox_and_runs_are_subcommands_and_longer_text_is_a_goal() -> None:
    from assistant.channels.slack.app import parse_command

    assert parse_command("inbox") == ("inbox", "")
    assert parse_command("runs") == ("runs", "")
    assert parse_command("runs failed") == ("runs", "failed")
    assert parse_command("runs au_1a2b3c") == ("runs", "au_1a2b3c")
    goal = "runs the weekly report every Monday at 9"
    assert parse_command(goal) == ("draft", goal)
    assert parse_command("inbox triage for billing emails")[0] == "draft"
