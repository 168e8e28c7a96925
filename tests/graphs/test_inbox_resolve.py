"""Agent Inbox's "Mark as resolved" and the served graph's custom auth (Flowdraft API tokens)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END
from langgraph_sdk import Auth

from assistant.db.engine import make_engine
from assistant.db.journal import MemoryJournal
from assistant.db.tokens import create_token
from assistant.db.users import UserDirectory, add_user
from assistant.services import Services
from graphs import auth
from graphs.context import Context
from graphs.process import STATE_UPDATER
from graphs.server import build_served_graph

GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


async def test_mark_as_resolved_closes_the_review_and_is_journaled(
    roles_context: Context, journal: MemoryJournal
) -> None:
    graph = build_served_graph(lambda: roles_context, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "r1", "langgraph_auth_user_id": "ana"}}
    out = await graph.ainvoke({"messages": [{"type": "human", "content": GOAL}]}, config)
    version, content_hash = out["workflow"]["version"], out["workflow"]["content_hash"]
    token = STATE_UPDATER.set("carla")
    try:
        # What Agent Inbox sends: threads.updateState(id, {values: null, asNode: "__end__"}).
        await graph.aupdate_state(config, None, as_node=END)
    finally:
        STATE_UPDATER.reset(token)
    state = await graph.aget_state(config)
    assert not state.next and not state.interrupts
    [resolved] = [e for e in journal.events if e["event"] == "resolved"]
    assert resolved["actor"] == "carla" and resolved["thread"] == "r1"
    assert resolved["content_hash"] == content_hash and resolved["version"] == version
    assert not [e for e in journal.events if e["event"] in ("approved", "rejected")]


async def test_updating_a_thread_that_waits_on_nothing_journals_no_resolve(
    roles_context: Context, journal: MemoryJournal
) -> None:
    graph = build_served_graph(lambda: roles_context, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "r2"}}
    await graph.ainvoke({"messages": [{"type": "human", "content": "hello"}]}, config)
    await graph.aupdate_state(config, None, as_node=END)
    assert not [e for e in journal.events if e["event"] == "resolved"]


@pytest.fixture
def served_services(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Services:
    """Return services over an empty database of their own, as the auth handler sees them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'auth.db'}")
    own = Services(**{**services.__dict__, "engine": engine})
    own.directory = UserDirectory(engine)
    monkeypatch.setattr(auth, "process_services", lambda: own)
    return own


async def test_a_token_acts_as_its_user_and_open_mode_lets_requests_in(
    served_services: Services,
) -> None:
    assert (await auth.authenticate(None, {}))["identity"] == "anonymous"
    add_user(served_services.engine, name="carla", roles=["cfo"])
    with pytest.raises(Auth.exceptions.HTTPException) as missing:
        await auth.authenticate(None, {})
    assert missing.value.status_code == 401
    _, plaintext = create_token(served_services.engine, name="inbox", owner="carla")
    assert (await auth.authenticate(f"Bearer {plaintext}", {}))["identity"] == "carla"
    assert (await auth.authenticate(None, {b"x-api-key": plaintext.encode()}))[
        "identity"
    ] == "carla"
    _, ownerless = create_token(served_services.engine, name="intake")
    with pytest.raises(Auth.exceptions.HTTPException) as nobody:
        await auth.authenticate(f"Bearer {ownerless}", {})
    assert nobody.value.status_code == 403
    with pytest.raises(Auth.exceptions.HTTPException):
        await auth.authenticate("Bearer fd_not-a-token", {})
