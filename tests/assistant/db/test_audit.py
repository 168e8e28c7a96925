"""The audit chain: intact logs verify; altered, inserted or deleted records are named."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant.db.audit import GENESIS, AuditLog, record_hash, verify
from assistant.db.audit_seal import AuditSeal
from assistant.db.engine import make_engine, session_scope
from assistant.db.tables import AuditRecord


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


# --- Tampering by someone who can write the database but does not hold the audit key. ---
# The attacker knows the record format and recomputes plain sha256 hashes wherever that
# helps them; what they cannot do is compute the key's HMAC.


def rows(log: AuditLog) -> list[AuditRecord]:
    return log.records()


def plain_hash(record: AuditRecord, *, seq: int, prev_hash: str) -> str:
    return record_hash(
        seq=seq,
        at=record.at,
        actor=record.actor,
        thread=record.thread,
        event=record.event,
        content_hash=record.content_hash,
        data=record.data,
        prev_hash=prev_hash,
    )


def execute(log: AuditLog, sql: str, **params: object) -> None:
    with log.engine.begin() as conn:
        conn.execute(text(sql), params)


def renumber(log: AuditLog, *, from_seq: int, by: int) -> None:
    """Shift records from ``from_seq`` on by ``by`` (one at a time: seq is the primary key)."""
    seqs = [r.seq for r in rows(log) if (r.seq or 0) >= from_seq]
    for seq in sorted(seqs, reverse=by > 0):
        execute(log, "UPDATE auditrecord SET seq = :new WHERE seq = :old", new=seq + by, old=seq)


def recompute(log: AuditLog, *, from_seq: int) -> None:
    """Relink and rehash every record from ``from_seq`` on, as a careful forger would."""
    previous = GENESIS
    for record in rows(log):
        seq = record.seq or 0
        if seq >= from_seq:
            new_hash = plain_hash(record, seq=seq, prev_hash=previous)
            execute(
                log,
                "UPDATE auditrecord SET prev_hash = :prev, hash = :hash WHERE seq = :seq",
                prev=previous,
                hash=new_hash,
                seq=seq,
            )
            previous = new_hash
        else:
            previous = record.hash


def forge(log: AuditLog, *, seq: int, prev_hash: str) -> None:
    """Insert an 'approved by the CFO' record with a correctly computed plain hash."""
    forged = AuditRecord(
        seq=seq,
        at=datetime(2026, 1, 1, 12, 0, 0),
        actor="cfo",
        thread="t1",
        event="approved",
        content_hash="abc",
        data='{"n": 99}',
        prev_hash=prev_hash,
        hash="",
    )
    execute(
        log,
        "INSERT INTO auditrecord (seq, at, actor, thread, event, content_hash, data, prev_hash, "
        "hash) VALUES (:seq, :at, :actor, :thread, :event, :content_hash, :data, :prev, :hash)",
        seq=seq,
        at=forged.at,
        actor=forged.actor,
        thread=forged.thread,
        event=forged.event,
        content_hash=forged.content_hash,
        data=forged.data,
        prev=prev_hash,
        hash=plain_hash(forged, seq=seq, prev_hash=prev_hash),
    )


def edit_actor(log: AuditLog) -> None:
    execute(log, "UPDATE auditrecord SET actor = 'mallory' WHERE seq = 3")


def edit_data(log: AuditLog) -> None:
    execute(log, """UPDATE auditrecord SET data = '{"n": 1000000}' WHERE seq = 3""")


def edit_time(log: AuditLog) -> None:
    execute(log, "UPDATE auditrecord SET at = :at WHERE seq = 3", at=datetime(2020, 1, 1))


def delete_first(log: AuditLog) -> None:
    execute(log, "DELETE FROM auditrecord WHERE seq = 1")


def delete_middle(log: AuditLog) -> None:
    execute(log, "DELETE FROM auditrecord WHERE seq = 3")


def delete_last(log: AuditLog) -> None:
    execute(log, "DELETE FROM auditrecord WHERE seq = 6")


def delete_all(log: AuditLog) -> None:
    execute(log, "DELETE FROM auditrecord")


def insert_middle(log: AuditLog) -> None:
    renumber(log, from_seq=4, by=1)
    forge(log, seq=4, prev_hash=rows(log)[2].hash)


def insert_end(log: AuditLog) -> None:
    forge(log, seq=7, prev_hash=rows(log)[-1].hash)


def edit_and_recompute(log: AuditLog) -> None:
    edit_actor(log)
    recompute(log, from_seq=3)


def delete_renumber_recompute(log: AuditLog) -> None:
    delete_middle(log)
    renumber(log, from_seq=4, by=-1)
    recompute(log, from_seq=3)


def forge_and_recompute(log: AuditLog) -> None:
    renumber(log, from_seq=3, by=1)
    forge(log, seq=3, prev_hash=rows(log)[1].hash)
    recompute(log, from_seq=3)


TAMPERING = [
    # (how, the record the first finding names, words a finding on it says)
    pytest.param(edit_actor, 3, "altered", id="edit-actor"),
    pytest.param(edit_data, 3, "altered", id="edit-data"),
    pytest.param(edit_time, 3, "altered", id="edit-time"),
    pytest.param(delete_first, 2, "1 before it were deleted", id="delete-first"),
    pytest.param(delete_middle, 4, "3 before it were deleted", id="delete-middle"),
    pytest.param(delete_last, 6, "6 were deleted from the end", id="delete-last"),
    pytest.param(delete_all, 6, "all 6 records were deleted", id="delete-all"),
    pytest.param(insert_middle, 4, "inserted", id="insert-middle"),
    pytest.param(insert_end, 7, "inserted", id="insert-end"),
    pytest.param(edit_and_recompute, 3, "altered", id="edit-recompute"),
    pytest.param(delete_renumber_recompute, 3, "altered", id="delete-renumber-recompute"),
    pytest.param(forge_and_recompute, 3, "forged", id="forge-recompute"),
]


@pytest.mark.parametrize(("tamper", "seq", "words"), TAMPERING)
def test_verify_names_every_kind_of_tampering(
    log: AuditLog, tamper: Callable[[AuditLog], None], seq: int, words: str
) -> None:
    log.append("decision", actor="user5", thread="t1", content_hash="abc", data={"n": 5})
    assert verify(log) == []
    tamper(log)
    findings = verify(log)
    assert findings, "tampering went unnoticed"
    named = [f.problem for f in findings if f.seq == seq]
    assert findings[0].seq == seq and any(words in p for p in named), [str(f) for f in findings]


def test_wiping_records_and_anchor_is_caught_by_the_head_witness(log: AuditLog) -> None:
    execute(log, "DELETE FROM auditrecord")
    execute(log, "DELETE FROM auditanchor")
    findings = verify(log)
    assert [f.seq for f in findings] == [5] and "the log was cut" in findings[0].problem


def test_a_broken_anchor_is_named_and_kept_as_evidence(log: AuditLog) -> None:
    execute(log, "UPDATE auditanchor SET seq = 2")
    assert any("anchor" in f.problem and "altered" in f.problem for f in verify(log))
    log.append("decision", actor="ana", thread="t1")
    assert any("anchor was found altered" in f.problem for f in verify(log))


def test_the_key_is_kept_outside_the_database(log: AuditLog, tmp_path: Path) -> None:
    key_file = tmp_path / "home" / "audit-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    with log.engine.connect() as conn:
        stored = " ".join(str(row) for row in conn.execute(text("SELECT * FROM auditanchor")))
    assert key_file.read_text() not in stored
    other = AuditLog(log.engine, AuditSeal(key=b"not the key" * 4))
    assert verify(other), "a chain checks out under a key that did not seal it"


def test_replicas_share_the_key_from_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLOWDRAFT_AUDIT_KEY", "k" * 40)
    first = AuditLog(make_engine(database_url))
    first.append("decision", actor="ana", thread="t1")
    monkeypatch.setenv("FLOWDRAFT_HOME", str(tmp_path / "replica"))
    second = AuditLog(make_engine(database_url))
    second.append("decision", actor="ben", thread="t1")
    assert verify(second) == [] and not (tmp_path / "replica" / "audit-key").exists()


def test_a_chain_from_before_the_key_still_verifies_and_gets_keyed(database_url: str) -> None:
    engine = make_engine(database_url)
    previous = GENESIS
    for seq in (1, 2, 3):
        record = AuditRecord(
            seq=seq,
            at=datetime(2025, 5, seq, tzinfo=UTC),
            actor="old",
            event="e",
            prev_hash=previous,
            hash="",
        )
        record.hash = plain_hash(record, seq=seq, prev_hash=previous)
        with session_scope(engine) as session:
            session.add(record)
        previous = record.hash
    log = AuditLog(engine)
    assert verify(log) == []
    log.append("decision", actor="ana", thread="t1")
    assert [r.event for r in log.records()] == ["e", "e", "e", "audit_keyed", "decision"]
    assert verify(log) == []
    # Rewriting the unkeyed part breaks it away from the keyed record that sealed its head.
    execute(log, "UPDATE auditrecord SET actor = 'mallory' WHERE seq = 2")
    recompute(log, from_seq=2)
    assert verify(log)[0].seq == 4


def test_the_cli_names_a_cut_tail_and_says_what_seals_an_intact_log() -> None:
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.settings import Settings

    settings = Settings()
    settings.ensure_home()
    log = AuditLog(make_engine(settings.database_url))
    for n in range(3):
        log.append("decision", actor="ana", thread="t1", data={"n": n})
    intact = CliRunner().invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0 and "sealed with the audit key" in intact.output
    execute(log, "DELETE FROM auditrecord WHERE seq = 3")
    cut = CliRunner().invoke(app, ["audit", "verify"])
    assert cut.exit_code == 1 and "record 3: record(s) 3 were deleted from the end" in cut.output
