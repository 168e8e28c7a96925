"""A reply answers the customer only if it does not send them back to what they tried."""

from assistant.evaluation.answering import repeated_steps

REPLY = (
    "Hi Ivy,\n\n1. Go to https://northwind.example/account/forgot-password (or click "
    "**Forgot password?** on the sign-in page).\n2. The email normally arrives within 5 "
    "minutes. If it has not, contact us and we will check the address on your account."
)


def test_an_instruction_to_redo_what_the_customer_tried_is_found() -> None:
    again = repeated_steps(REPLY, ["clicked the forgot password link three times"])
    assert again and "forgot-password" in again[0]


def test_a_reply_that_moves_on_from_what_was_tried_passes() -> None:
    assert repeated_steps(REPLY, ["waited an hour for the email"]) == []
    assert repeated_steps(REPLY, []) == []
