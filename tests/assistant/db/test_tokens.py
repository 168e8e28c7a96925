"""API tokens: shown once, stored only as a hash, refused once revoked."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog, verify
from assistant.db.engine import make_engine, session_scope
from assistant.db.tables import ApiToken
from assistant.db.tokens import (
    TOKEN_PREFIX,
    TokenError,
    create_token,
    hash_token,
    list_tokens,
    revoke_token,
    verify_token,
)
from assistant.db.users import add_user


@pytest.fixture
def engine(database_url: str) -> Engine:
    return make_engine(database_url)


def stored_rows(engine: Engine) -> list[tuple]:
    with session_scope(engine) as session:
        return [tuple(row) for row in session.exec(text("SELECT * FROM apitoken")).all()]  # type: ignore[call-overload]


def test_created_token_verifies_and_only_its_hash_is_kept(engine: Engine) -> None:
    row, plaintext = create_token(engine, name="zendesk-bridge", created_by="ana")
    assert plaintext.startswith(TOKEN_PREFIX) and len(plaintext) >= 40
    assert row.token_hash == hash_token(plaintext) and row.last_used_at is None
    assert not any(plaintext in str(value) for value in stored_rows(engine)[0])

    verified = verify_token(engine, plaintext)
    assert verified is not None and verified.name == "zendesk-bridge"
    assert verified.last_used_at is not None
    assert [t.name for t in list_tokens(engine)] == ["zendesk-bridge"]
    other, _ = create_token(engine, name="other")
    assert other.token_hash != row.token_hash


@pytest.mark.parametrize(
    "presented",
    ["", "fd_", "not-a-flowdraft-token", TOKEN_PREFIX + "x" * 43],
)
def test_unknown_tokens_are_refused(engine: Engine, presented: str) -> None:
    create_token(engine, name="real")
    assert verify_token(engine, presented) is None


def test_revoked_token_is_refused_and_keeps_its_name(engine: Engine) -> None:
    _, plaintext = create_token(engine, name="ci")
    revoked = revoke_token(engine, name="ci", revoked_by="lee")
    assert revoked.revoked_at is not None
    assert verify_token(engine, plaintext) is None
    assert revoke_token(engine, name="ci").revoked_at == revoked.revoked_at  # twice is fine
    assert [t.name for t in list_tokens(engine)] == ["ci"]
    with pytest.raises(TokenError, match="already exists"):
        create_token(engine, name="ci")


def test_bad_names_and_unknown_tokens_are_clear_errors(engine: Engine) -> None:
    create_token(engine, name="ci")
    with pytest.raises(TokenError, match="already exists"):
        create_token(engine, name="ci")
    for bad in ("", "  ", "has space", "-dash-first", "x" * 65):
        with pytest.raises(TokenError, match="not a usable token name"):
            create_token(engine, name=bad)
    with pytest.raises(TokenError, match="no token called 'ghost'"):
        revoke_token(engine, name="ghost")


def test_last_used_is_refreshed_at_most_once_a_minute(engine: Engine) -> None:
    _, plaintext = create_token(engine, name="ci")
    first = verify_token(engine, plaintext)
    second = verify_token(engine, plaintext)
    assert first is not None and second is not None
    assert second.last_used_at == first.last_used_at
    with session_scope(engine) as session:
        row = session.get(ApiToken, first.id)
        assert row is not None and row.last_used_at is not None
        row.last_used_at = row.last_used_at - timedelta(minutes=5)
        session.add(row)
    third = verify_token(engine, plaintext)
    assert third is not None and third.last_used_at and first.last_used_at
    assert third.last_used_at > first.last_used_at


def test_token_lifecycle_is_audited(engine: Engine) -> None:
    create_token(engine, name="ci", created_by="ana")
    revoke_token(engine, name="ci", revoked_by="lee")
    log = AuditLog(engine)
    events = [(r.event, r.actor) for r in log.records()]
    assert events == [("token_created", "ana"), ("token_revoked", "lee")]
    assert verify(log) == []


def test_a_token_belongs_to_an_existing_user(engine: Engine) -> None:
    add_user(engine, name="sam", roles=["support"])
    row, plaintext = create_token(engine, name="helpdesk", owner="sam")
    verified = verify_token(engine, plaintext)
    assert row.owner == "sam" and verified is not None and verified.owner == "sam"
    with pytest.raises(TokenError, match="no user called 'ghost'"):
        create_token(engine, name="ghosted", owner="ghost")
    assert create_token(engine, name="intake-only")[0].owner is None
