"""The audit chain: intact logs verify; altered, inserted or deleted records are named."""

import pytest
from sqlalchemy import text

from assistant.db.audit import AuditLog, verify
from assistant.db.engine import make_engine, session_scope


@pytest.fixture
def log(database_url: str) -> AuditLog:
    audit = AuditLog(make_engine(database_url))
    for i in range(5):
        audit.append("decision", actor=f"user{i}", thread="t1", content_hash="abc", data={"n": i})
    return audit


def run_sql(log: AuditLog, sql: str) -> None:
    with session_scope(log.engine) as session:
        session.exec(text(sql))  # type: ignore[call-overload]


def test_intact_chain_verifies(log: AuditLog) -> None:
    assert verify(log) == []
    records = log.records(thread="t1")
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[1].prev_hash == records[0].hash


def test_altered_record_is_named(log: AuditLog) -> None:
    run_sql(log, "UPDATE auditrecord SET actor = 'mallory' WHERE seq = 3")
    findings = verify(log)
    assert [f.seq for f in findings] == [3] and "altered" in findings[0].problem


def test_deleted_record_is_named(log: AuditLog) -> None:
    run_sql(log, "DELETE FROM auditrecord WHERE seq = 2")
    findings = verify(log)
    assert findings and findings[0].seq == 3 and "deleted" in findings[0].problem


def test_inserted_record_is_named(log: AuditLog) -> None:
    first = log.records()[0]
    run_sql(
        log,
        "INSERT INTO auditrecord (seq, at, actor, thread, event, content_hash, data, prev_hash, hash) "
        f"VALUES (6, '2026-01-01 00:00:00', 'mallory', 't1', 'approved', '', '{{}}', '{first.hash}', 'forged')",
    )
    findings = verify(log)
    assert any(f.seq == 6 for f in findings)


def test_appends_keep_chaining_after_verification(log: AuditLog) -> None:
    log.append("edit", actor="ana", thread="t2")
    assert verify(log) == [] and log.records()[-1].seq == 6


def test_concurrent_appends_keep_one_chain(log: AuditLog) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: log.append("action_result", actor=f"w{i}", thread="t3"), range(40)))
    assert verify(log) == [] and len(log.records()) == 45
