"""Slack users tied to Flowdraft users: linked by member id, or matched once by email."""

import pytest
from sqlalchemy.engine import Engine

from assistant.db.engine import make_engine
from assistant.db.users import UserError, add_user, get_user, link_slack, user_for_slack


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    add_user(engine, name="ana", roles=["manager"])
    add_user(engine, name="ben", roles=[])
    add_user(engine, name="carla", roles=["cfo"], email="Carla@Northwind.example")
    return engine


def slack_id_of(engine: Engine, name: str) -> str | None:
    user = get_user(engine, name=name)
    assert user is not None
    return user.slack_user_id


@pytest.mark.parametrize("bad", ["", "not-an-id", "C0FINANCE", "U1", "U0 ANA", "B0BOT"])
def test_link_slack_takes_only_slack_member_ids(engine: Engine, bad: str) -> None:
    with pytest.raises(UserError, match=r"is not a Slack user id .*Copy member ID"):
        link_slack(engine, name="ana", slack_user_id=bad)
    assert slack_id_of(engine, "ana") is None


def test_link_slack_normalises_the_id_and_needs_a_known_user(engine: Engine) -> None:
    assert link_slack(engine, name="ana", slack_user_id="  u0ana ").slack_user_id == "U0ANA"
    # Enterprise Grid member ids start with W.
    assert link_slack(engine, name="ben", slack_user_id="W0BEN123").slack_user_id == "W0BEN123"
    with pytest.raises(UserError, match="no user called 'ghost'"):
        link_slack(engine, name="ghost", slack_user_id="U0GHOST")


def test_an_id_linked_to_someone_is_not_given_to_another(engine: Engine) -> None:
    link_slack(engine, name="ana", slack_user_id="U0ANA")
    with pytest.raises(UserError, match="U0ANA is already linked to 'ana'"):
        link_slack(engine, name="ben", slack_user_id="u0ana")
    assert slack_id_of(engine, "ana") == "U0ANA" and slack_id_of(engine, "ben") is None

    # Linking again is harmless; linking a new id moves the user to it.
    assert link_slack(engine, name="ana", slack_user_id="U0ANA").slack_user_id == "U0ANA"
    link_slack(engine, name="ana", slack_user_id="U0ANA2")
    assert user_for_slack(engine, slack_user_id="U0ANA") is None
    found = user_for_slack(engine, slack_user_id="U0ANA2")
    assert found is not None and found.name == "ana"


def test_user_for_slack_finds_the_linked_user(engine: Engine) -> None:
    link_slack(engine, name="ana", slack_user_id="U0ANA")
    found = user_for_slack(engine, slack_user_id="U0ANA")
    assert found is not None and found.name == "ana" and found.role_list == ["manager"]
    # The id wins over an email that belongs to someone else.
    found = user_for_slack(engine, slack_user_id="U0ANA", email="carla@northwind.example")
    assert found is not None and found.name == "ana"
    assert user_for_slack(engine, slack_user_id="U0NOBODY") is None
    assert user_for_slack(engine, slack_user_id="U0NOBODY", email="nobody@x.example") is None


def test_an_email_match_ignores_case_and_is_remembered(engine: Engine) -> None:
    found = user_for_slack(engine, slack_user_id="U0CARLA", email="CARLA@northwind.EXAMPLE")
    assert found is not None and found.name == "carla"
    assert slack_id_of(engine, "carla") == "U0CARLA"
    # Next time no email is needed: Slack's users.info is asked once.
    again = user_for_slack(engine, slack_user_id="U0CARLA")
    assert again is not None and again.name == "carla"


def test_an_email_match_does_not_take_over_a_linked_user(engine: Engine) -> None:
    link_slack(engine, name="carla", slack_user_id="U0CARLA")
    # Another Slack account showing carla's email (a second workspace, a spoofed profile).
    assert (
        user_for_slack(engine, slack_user_id="U0IMPOSTER", email="carla@northwind.example") is None
    )
    assert slack_id_of(engine, "carla") == "U0CARLA"
    assert user_for_slack(engine, slack_user_id="U0IMPOSTER") is None
