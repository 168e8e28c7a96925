"""Replicas starting at the same moment on a fresh database all come up."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.db.engine import make_engine
from assistant.db.users import add_user, list_users
from assistant.services import open_checkpoints
from assistant.settings import Settings

STARTING = 4
"""Replicas starting together."""


def test_tables_are_created_once_when_replicas_start_together(database_url: str) -> None:
    ready = threading.Barrier(STARTING)

    def start() -> int:
        ready.wait()
        engine = make_engine(database_url)
        return len(list_users(engine))

    with ThreadPoolExecutor(STARTING) as pool:
        seen = [f.result() for f in [pool.submit(start) for _ in range(STARTING)]]
    assert seen == [0] * STARTING
    add_user(make_engine(database_url), name="ana", roles=["manager"])
    assert [u.name for u in list_users(make_engine(database_url))] == ["ana"]


async def test_chat_checkpoints_are_set_up_once_when_replicas_start_together(
    database_url: str, tmp_path: pytest.TempPathFactory
) -> None:
    settings = Settings(home=tmp_path, database_url=database_url)  # type: ignore[arg-type]

    async def start() -> bool:
        async with open_checkpoints(settings) as saver:
            return saver is not None

    assert await asyncio.gather(*(start() for _ in range(STARTING))) == [True] * STARTING
