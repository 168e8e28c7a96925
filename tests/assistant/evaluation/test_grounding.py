"""The reply-grounding check: a figure or a rule in a reply must be in what it cites."""

from assistant.evaluation.grounding import ReplyCheck, carries_claim, check_reply, supported

REFUNDS = {
    "faq/refund-policy.md": """---
title: How refunds work
---

# How refunds work

Physical goods: unused items returned within **30 days** of delivery get a full refund.
Card refunds take **5–10 business days** to appear. Monthly plans are not refunded.

| Option | Delivery time | Cost |
| --- | --- | --- |
| Standard | 3–5 business days | $4.95, free on orders over $50 |

## When to contact support

Contact us at https://northwind.example/support if:

- the refund has not arrived **10 business days** after the confirmation email, or
- the amount looks wrong.
""",
}


def check(
    *sentences: str, subject: str = "Refund for my blender", documents: dict[str, str] = REFUNDS
) -> ReplyCheck:
    """Check a reply shaped like the offline brain's, around ``sentences``."""
    body = (
        f'Hi Priya,\n\nThanks for getting in touch about "{subject}".\n\n'
        + " ".join(sentences)
        + '\n\nYou can read the full article, "How refunds work", in our help centre. '
        "If this doesn't solve it, just reply to this email and we'll take it from there."
        "\n\nBest regards,\nNorthwind Support"
    )
    return check_reply(body, documents, ticket_text=subject, titles=("How refunds work",))


def test_flags_a_number_the_cited_text_does_not_hold() -> None:
    found = check("Card refunds take 2–3 business days to appear.")
    assert found.unsupported == ["Card refunds take 2–3 business days to appear."]


def test_flags_a_rule_the_cited_text_does_not_hold() -> None:
    assert not supported("Monthly plans are always refunded.", REFUNDS)
    assert not supported("Monthly plans are refunded.", REFUNDS)  # the source says "not"
    assert supported("Monthly plans are not refunded.", REFUNDS)


def test_accepts_a_verbatim_quote_despite_markdown_and_dashes() -> None:
    quote = "Physical goods: unused items returned within 30 days of delivery get a full refund."
    found = check(quote, "Card refunds take 5-10 business days to appear.")
    assert found.claims and not found.unsupported


def test_accepts_a_table_row_read_with_its_header() -> None:
    row = (
        "Option: Standard; Delivery time: 3–5 business days; Cost: $4.95, free on orders over $50."
    )
    assert supported(row, REFUNDS)
    assert not supported(row.replace("$4.95", "$3.95"), REFUNDS)


def test_a_list_is_quoted_with_its_lead_in_or_not_at_all() -> None:
    whole = (
        "Contact us at https://northwind.example/support if: the refund has not arrived "
        "10 business days after the confirmation email, or the amount looks wrong."
    )
    assert not check(whole).unsupported
    cut = "the refund has not arrived 10 business days after the confirmation email, or"
    assert check(f"{cut} the amount looks wrong.").unsupported


def test_ignores_greetings_closings_and_the_customers_own_words() -> None:
    found = check("Nothing here states a rule.", subject="Refund after 6 DAYS?", documents={})
    assert found.claims == [] and found.unsupported == []
    assert found.greets and found.next_step


def test_a_holding_reply_claims_nothing_and_says_what_happens_next() -> None:
    body = (
        "Hello,\n\nThank you for contacting Northwind support. A member of our team will "
        "review your message personally. We will get back to you as soon as possible.\n\n"
        "Best regards,\nNorthwind Support"
    )
    found = check_reply(body, {})
    assert found.greets and found.next_step and not found.claims


def test_what_carries_a_claim() -> None:
    assert carries_claim("Refunds take 5 business days.")
    assert carries_claim("Shipping is free on orders over fifty dollars.")
    assert carries_claim("You must keep the receipt.")
    assert not carries_claim("Open the order and click Report a problem.")
