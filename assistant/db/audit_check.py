"""Check an audit chain against its key, its anchor and this machine's head witness.

Each finding names a record and what happened to it: altered, inserted, deleted (at the
start, in the middle, from the end, or all of it), or rewritten with a recomputed chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant.db.audit_seal import GENESIS, AuditSeal, record_body
from assistant.db.tables import AuditAnchor, AuditRecord

KEYED_EVENT = "audit_keyed"
"""Written once, when a chain from before the audit key is first appended to under it."""

ANCHOR_EVENT = "audit_anchor_invalid"
"""Written when an append finds the anchor's seal broken: the evidence stays in the chain."""


@dataclass
class Finding:
    """One problem ``verify`` found."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.problem}"


def check_chain(
    records: list[AuditRecord],
    *,
    seal: AuditSeal,
    anchor: AuditAnchor | None,
    anchor_valid: bool,
    legacy_hash: Callable[[bytes], str],
) -> list[Finding]:
    """Return every problem of ``records`` (in seq order), checked against ``anchor``."""
    bodies = [_body(record) for record in records]
    keyed = [seal.matches(body, record.hash) for body, record in zip(bodies, records, strict=True)]
    findings: list[Finding] = []
    if anchor is not None and anchor_valid:
        legacy_until = anchor.legacy_until
    else:
        # Without a trusted anchor, only records before the first keyed one may be unkeyed.
        first_keyed = next((r.seq or 0 for r, k in zip(records, keyed, strict=True) if k), None)
        legacy_until = (
            (first_keyed - 1) if first_keyed else (records[-1].seq or 0 if records else 0)
        )
        if anchor is not None:
            findings.append(
                Finding(
                    anchor.seq,
                    f"the anchor's seal does not match the audit key: it was altered "
                    f"(it claims the log ends at record {anchor.seq})",
                )
            )
        elif first_keyed is not None:
            findings.append(
                Finding(
                    records[-1].seq or 0,
                    "the anchor is missing although records are sealed with the key: deleted",
                )
            )
    findings += _walk(records, bodies, keyed, legacy_until, legacy_hash)
    if anchor is not None and anchor_valid:
        findings += _tail(records, anchor)
    findings += _witnessed(records, seal)
    return sorted(findings, key=lambda finding: finding.seq)


def _body(record: AuditRecord) -> bytes:
    return record_body(
        seq=record.seq or 0,
        at=record.at,
        actor=record.actor,
        thread=record.thread,
        event=record.event,
        content_hash=record.content_hash,
        data=record.data,
        prev_hash=record.prev_hash,
    )


def _walk(
    records: list[AuditRecord],
    bodies: list[bytes],
    keyed: list[bool],
    legacy_until: int,
    legacy_hash: Callable[[bytes], str],
) -> list[Finding]:
    """Check each record's seq, its link to the one before, and its seal."""
    findings: list[Finding] = []
    previous_hash = GENESIS
    expected_seq = 1
    for index, record in enumerate(records):
        seq = record.seq or 0
        if seq > expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
            findings.append(Finding(seq, f"record(s) {missing} before it were deleted"))
        elif seq < expected_seq:
            findings.append(Finding(seq, "sequence number repeats: inserted record"))
        if record.prev_hash != previous_hash:
            findings.append(
                Finding(
                    seq, "does not link to the record before it: a record was inserted or deleted"
                )
            )
        if seq <= legacy_until:
            sealed = keyed[index] or legacy_hash(bodies[index]) == record.hash
        else:
            sealed = keyed[index]
        following = records[index + 1] if index + 1 < len(records) else None
        if not sealed and following is not None and following.prev_hash == previous_hash:
            findings.append(
                Finding(
                    seq,
                    "is not sealed with the audit key and the next record links past it: inserted",
                )
            )
        elif not sealed:
            findings.append(
                Finding(
                    seq,
                    f"content was altered or forged ({record.event} by {record.actor}): "
                    "its seal does not match the audit key",
                )
            )
        elif record.event == ANCHOR_EVENT:
            findings.append(
                Finding(seq, f"the anchor was found altered before this record: {record.data}")
            )
        elif record.event == KEYED_EVENT and seq != legacy_until + 1:
            findings.append(
                Finding(seq, "the chain was keyed again here: its anchor had been deleted")
            )
        previous_hash = record.hash
        expected_seq = seq + 1
    return findings


def _tail(records: list[AuditRecord], anchor: AuditAnchor) -> list[Finding]:
    """Compare the end of the chain with the sealed anchor."""
    if not records:
        return [
            Finding(
                anchor.seq,
                f"all {anchor.seq} records were deleted (the anchor says the log ends "
                f"at record {anchor.seq})",
            )
        ]
    findings: list[Finding] = []
    head = next((r for r in records if r.seq == anchor.seq), None)
    last_seq = records[-1].seq or 0
    if head is None and last_seq < anchor.seq:
        cut = f"{last_seq + 1}" if last_seq + 1 == anchor.seq else f"{last_seq + 1}..{anchor.seq}"
        findings.append(
            Finding(
                anchor.seq,
                f"record(s) {cut} were deleted from the end (the anchor says the log ends "
                f"at record {anchor.seq})",
            )
        )
    elif head is None:
        findings.append(Finding(anchor.seq, "the anchored head record was deleted"))
    elif head.hash != anchor.hash:
        findings.append(
            Finding(anchor.seq, "differs from the anchored head: the chain was rewritten")
        )
    findings += [
        Finding(r.seq or 0, f"was added after the anchored head (record {anchor.seq}): inserted")
        for r in records
        if (r.seq or 0) > anchor.seq
    ]
    return findings


def _witnessed(records: list[AuditRecord], seal: AuditSeal) -> list[Finding]:
    """Compare the chain with the newest record this machine saw appended."""
    witness = seal.witness()
    if witness is None:
        return []
    seq, witnessed_hash = witness
    record = next((r for r in records if r.seq == seq), None)
    if record is None:
        return [Finding(seq, "is missing, though this machine saw it appended: the log was cut")]
    if record.hash != witnessed_hash:
        return [Finding(seq, "differs from what this machine saw appended: the log was rewritten")]
    return []
