"""Routing decides on explicit flags, never on the wording of notices or messages."""

from graphs.routing import route_approval, route_decision, route_revised


def test_a_complete_approval_goes_live_whatever_the_notice_says() -> None:
    assert (
        route_approval({"approval_complete": True, "notice": "Approved; see notes"}) == "activate"
    )
    assert route_approval({"approval_complete": False, "notice": None}) == "review"


def test_a_revision_goes_to_policy_unless_it_failed_whatever_the_message() -> None:
    assert route_revised({"revision_failed": False, "message": {"text": "v2"}}) == "check_policy"
    assert route_revised({"revision_failed": True, "message": None}) == "review"


def test_a_refused_decision_goes_back_to_the_same_review() -> None:
    assert route_decision({"decision_refused": True, "decision": None}) == "review"
    assert route_decision({"decision_refused": False, "decision": {"type": "ignore"}}) == "discard"
