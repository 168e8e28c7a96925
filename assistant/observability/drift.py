"""Drift: does this week look like the weeks before it? An alert when it does not.

Compared, this week (the last 7 days) against the pooled weeks before it (4 by default):

- reply confidence: the mean confidence of drafted ticket replies (absolute change);
- reply mix: the share of each triage category (total variation distance: half the sum
  of the absolute differences of the shares, 0 = same mix, 1 = nothing in common);
- design mix: the share of each playbook among new workflow drafts (same distance).

A signal with too few cases on either side (``MIN_CASES``) is not judged. When one moves
beyond the threshold, the alert is logged and posted to the configured Slack channel, once
per signal and week (the post's idempotency key names both).
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from assistant.db.audit import as_utc
from assistant.db.engine import session_scope
from assistant.db.tables import AuditRecord, TicketReply, utcnow
from assistant.observability.settings import ObservabilitySettings
from connectors.registry import ConnectorRegistry

if TYPE_CHECKING:
    from assistant.services import Services

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
MIN_CASES = 5
"""Fewer cases than this in a week (or in the weeks before) say nothing about drift."""
CHECK_EVERY = 24 * 3600.0
"""Seconds between two checks by a running server: a daily comparison."""


@dataclass
class Signal:
    """One compared signal: this week's value, the weeks before, how far it moved."""

    name: str
    current: float | dict[str, float] | None
    baseline: float | dict[str, float] | None
    change: float | None
    cases: tuple[int, int]
    drifted: bool = False


@dataclass
class DriftReport:
    """The comparison of one week with the weeks before it."""

    week_ending: datetime
    threshold: float
    signals: list[Signal] = field(default_factory=list)

    @property
    def drifted(self) -> list[Signal]:
        """Return the signals that moved beyond the threshold."""
        return [s for s in self.signals if s.drifted]

    def as_dict(self) -> dict[str, object]:
        """Return the report as JSON-ready data."""
        return {
            "week_ending": self.week_ending.isoformat(),
            "threshold": self.threshold,
            "drifted": [s.name for s in self.drifted],
            "signals": [asdict(s) for s in self.signals],
        }


def shares(values: list[str]) -> dict[str, float]:
    """Return each value's share of ``values``."""
    counts = Counter(values)
    return {k: round(v / len(values), 4) for k, v in sorted(counts.items())}


def distance(a: dict[str, float], b: dict[str, float]) -> float:
    """Return the total variation distance between two mixes (0 same, 1 disjoint)."""
    return round(sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in {*a, *b}) / 2, 4)


def compare_mix(name: str, now: list[str], before: list[str], threshold: float) -> Signal:
    """Compare two mixes of labels."""
    cases = (len(now), len(before))
    if min(cases) < MIN_CASES:
        return Signal(name, None, None, None, cases)
    current, baseline = shares(now), shares(before)
    change = distance(current, baseline)
    return Signal(name, current, baseline, change, cases, change > threshold)


def compare_mean(name: str, now: list[float], before: list[float], threshold: float) -> Signal:
    """Compare the means of two sets of values."""
    cases = (len(now), len(before))
    if min(cases) < MIN_CASES:
        return Signal(name, None, None, None, cases)
    current, baseline = statistics.fmean(now), statistics.fmean(before)
    change = round(abs(current - baseline), 4)
    return Signal(name, round(current, 4), round(baseline, 4), change, cases, change > threshold)


def check_drift(
    engine: Engine,
    *,
    now: datetime | None = None,
    weeks: int = 4,
    threshold: float = ObservabilitySettings.model_fields["drift_threshold"].default,
) -> DriftReport:
    """Compare the last 7 days with the ``weeks`` weeks before them."""
    moment = now or utcnow()
    since = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) - WEEK * (weeks + 1)
    end = as_utc(moment)  # rows come back naive or aware depending on the database
    start = end - WEEK
    with session_scope(engine) as session:
        replies = [
            (as_utc(r.drafted_at), r.confidence, r.category or "other")
            for r in session.exec(select(TicketReply).where(TicketReply.drafted_at >= since))
        ]
        drafts = [
            (as_utc(row.at), str(json.loads(row.data or "{}").get("playbook") or "none"))
            for row in session.exec(
                select(AuditRecord).where(
                    col(AuditRecord.event) == "draft", AuditRecord.at >= since
                )
            )
        ]
    recent = [r for r in replies if start <= r[0] < end]
    older = [r for r in replies if r[0] < start]
    new_designs = [d[1] for d in drafts if start <= d[0] < end]
    old_designs = [d[1] for d in drafts if d[0] < start]
    return DriftReport(
        week_ending=end,
        threshold=threshold,
        signals=[
            compare_mean(
                "reply_confidence", [r[1] for r in recent], [r[1] for r in older], threshold
            ),
            compare_mix("reply_mix", [r[2] for r in recent], [r[2] for r in older], threshold),
            compare_mix("design_mix", new_designs, old_designs, threshold),
        ],
    )


def alert_text(report: DriftReport) -> str:
    """Say what drifted, by how much, against what."""
    parts = [
        f"{s.name} moved by {s.change} (this week {s.current}, before {s.baseline})"
        for s in report.drifted
    ]
    return (
        f"Flowdraft drift in the week to {report.week_ending:%Y-%m-%d}: "
        + "; ".join(parts)
        + f". Threshold {report.threshold}; review recent drafts and replies."
    )


async def alert(report: DriftReport, registry: ConnectorRegistry, channel: str) -> bool:
    """Log the drift and post it to ``channel`` (if any); return whether there was any."""
    if not report.drifted:
        return False
    text = alert_text(report)
    log.warning("%s", text)
    if channel:
        week = f"{report.week_ending:%G-W%V}"
        names = "+".join(s.name for s in report.drifted)
        result = await registry.get("slack").execute(
            "post_message", {"channel": channel, "text": text}, f"drift:{week}:{names}"
        )
        if result.status != "ok":
            log.error("the drift alert was not posted to %s: %s", channel, result.detail)
    return True


async def watch_drift(
    engine: Engine,
    registry: ConnectorRegistry,
    *,
    channel: str,
    threshold: float,
    every: float = CHECK_EVERY,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Check for drift now and then every ``every`` seconds, until cancelled."""
    while True:
        try:
            report = await asyncio.to_thread(check_drift, engine, now=clock(), threshold=threshold)
            await alert(report, registry, channel)
        except Exception:  # a failed check must not stop the next one
            log.exception("the drift check failed")
        await asyncio.sleep(every)


async def watch_drift_of(services: Services, settings: ObservabilitySettings | None = None) -> None:
    """Watch the services' database for drift daily; alert on their Slack connector."""
    settings = settings or ObservabilitySettings()
    await watch_drift(
        services.engine,
        services.registry,
        channel=settings.drift_channel,
        threshold=settings.drift_threshold,
    )
