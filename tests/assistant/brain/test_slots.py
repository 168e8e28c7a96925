"""Slot extraction from free text."""

import pytest

from assistant.brain.offline.slots import extract_slots


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance",
            {
                "amount_threshold": 10000,
                "currency": "USD",
                "channel": "#finance",
                "approver_role": "cfo",
            },
        ),
        (
            "Expense reports over £500 need the employee's manager to approve",
            {"amount_threshold": 500, "currency": "GBP", "approver_role": "manager"},
        ),
        (
            "claims above 2.5k euros go to the controller",
            {"amount_threshold": 2500, "currency": "EUR", "approver_role": "controller"},
        ),
        ("bills under €1.000 need a look", {"amount_threshold": 1000, "currency": "EUR"}),
        (
            "wire five hundred thousand dollars to our supplier",
            {"amount_threshold": 500000, "currency": "USD"},
        ),
        (
            "payments over fifty grand need the cfo",
            {"amount_threshold": 50000, "approver_role": "cfo"},
        ),
        ("refunds above two thousand euros", {"amount_threshold": 2000, "currency": "EUR"}),
        ("also email Ana.Lopez@Northwind.example", {"email": "ana.lopez@northwind.example"}),
        ("every Monday at 9am post open tickets", {"schedule": "weekly:monday at 09:00"}),
        ("each morning at 8 send a digest", {"schedule": "daily at 08:00"}),
        ("every weekday remind the team", {"schedule": "weekdays"}),
        ("sync leads from HubSpot into Salesforce", {"systems": ["hubspot", "salesforce"]}),
    ],
)
def test_extracts_stated_slots(text: str, expected: dict) -> None:
    assert extract_slots(text).stated() == expected


@pytest.mark.parametrize(
    "text",
    [
        "lock the account after 5 failed attempts",
        "reply within 30 days",
        "ticket #123 is stuck",
        "reject applicants with a credit score under 600",
    ],
)
def test_numbers_that_are_not_money_are_not_thresholds(text: str) -> None:
    assert extract_slots(text).amount_threshold is None


def test_it_as_a_pronoun_is_not_the_it_team() -> None:
    assert extract_slots("send it to the team").approver_role is None
    assert extract_slots("IT must approve new laptops").approver_role == "it"
