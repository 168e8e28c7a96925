"""Who works the support desk is the policy's to say, and every check reads it there."""

from assistant.db.users import MemoryDirectory
from assistant.policy import load_policy
from assistant.schemas import ReviewResponse
from graphs.nodes.support import Refusal, check_reply_decision


def test_the_shipped_policy_names_the_desks_roles() -> None:
    policy = load_policy()
    assert policy.support_agents == ["support", "support_lead", "admin"]
    assert policy.is_support_agent(["manager", "support_lead"])
    assert not policy.is_support_agent(["cfo"]) and not policy.is_support_agent(None)


def test_a_policy_that_names_other_roles_changes_who_may_review_replies() -> None:
    policy = load_policy()
    policy.support_agents = ["billing"]
    people = MemoryDirectory({"bea": ["billing"], "sam": ["support"]})
    accept = {"type": "accept", "args": None}
    assert isinstance(
        check_reply_decision({**accept, "user": "bea"}, people, policy), ReviewResponse
    )
    refused = check_reply_decision({**accept, "user": "sam"}, people, policy)
    assert isinstance(refused, Refusal) and refused.forbidden
    assert refused.reason == "sam is not a support agent (needs billing)"
