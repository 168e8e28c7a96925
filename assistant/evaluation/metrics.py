"""Eval figures: ratios with their misses, confidence calibration, and the printed report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

TARGET = 0.90
METRIC_NAMES = (
    "intent accuracy",
    "playbook hit@1",
    "slot accuracy",
    "clarification when needed",
    "clarifying questions offer a likely playbook",
    "small talk recognised",
    "question citation hit@3",
    "FAQ citation hit@3",
    "risky requests guarded",
    "risky requests name the policy",
    "sensitive tickets to a human",
    "routine tickets drafted",
    "reply claims supported",
    "replies without unsupported claims",
    "replies answer what was asked",
    "replies greet the customer",
    "replies give a next step",
)
"""The figures the eval reports, in order; tools read them by these names."""
TARGETS = {
    "reply claims supported": 1.0,
    "replies without unsupported claims": 1.0,
    "risky requests guarded": 1.0,
    "sensitive tickets to a human": 1.0,
    "intent accuracy": 0.95,
    "question citation hit@3": 0.95,
    "FAQ citation hit@3": 0.95,
}
"""Bars other than ``TARGET``: every claim supported, every risky request guarded."""
CALIBRATION_BINS = 10


@dataclass
class Metric:
    """A ratio with the cases that missed it."""

    name: str
    hits: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, label: str) -> None:
        """Count one case."""
        self.total += 1
        self.hits += ok
        if not ok:
            self.misses.append(label)

    @property
    def value(self) -> float:
        """Return hits / total (1.0 when there were no cases)."""
        return self.hits / self.total if self.total else 1.0


@dataclass
class Calibration:
    """How well the stated intent confidence predicts being right.

    Each request adds its confidence and whether the assistant understood it (intent, and
    the playbook when one was expected). A calibrated assistant is right 80% of the time
    when it says 0.8.
    """

    points: list[tuple[float, bool]] = field(default_factory=list)

    def add(self, confidence: float, correct: bool) -> None:
        """Count one request."""
        self.points.append((min(1.0, max(0.0, confidence)), correct))

    def table(self) -> list[dict[str, float | int]]:
        """Return the reliability table: per confidence bin, count, mean confidence, accuracy."""
        rows = []
        for b in range(CALIBRATION_BINS):
            low, high = b / CALIBRATION_BINS, (b + 1) / CALIBRATION_BINS
            inside = [
                (c, ok)
                for c, ok in self.points
                if low <= c < high or (b == CALIBRATION_BINS - 1 and c == 1.0)
            ]
            if inside:
                rows.append(
                    {
                        "low": low,
                        "high": high,
                        "count": len(inside),
                        "confidence": sum(c for c, _ in inside) / len(inside),
                        "accuracy": sum(ok for _, ok in inside) / len(inside),
                    }
                )
        return rows

    @property
    def error(self) -> float:
        """Return the expected calibration error: count-weighted |accuracy - confidence|."""
        if not self.points:
            return 0.0
        return sum(
            float(r["count"]) * abs(float(r["accuracy"]) - float(r["confidence"]))
            for r in self.table()
        ) / len(self.points)


@dataclass
class EvalReport:
    """All eval figures of one set of cases; ``held_out`` holds the held-out set's own."""

    metrics: dict[str, Metric]
    seconds: float
    hybrid: dict[str, float] = field(default_factory=dict)
    unsupported_claims: list[dict[str, str]] = field(default_factory=list)
    """Every reply sentence stating a number or a rule that its citations do not hold."""
    calibration: Calibration = field(default_factory=Calibration)
    name: str = "tuning cases"
    held_out: EvalReport | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        data: dict[str, Any] = {
            "cases": self.name,
            "metrics": {
                name: {
                    "value": round(m.value, 4),
                    "hits": m.hits,
                    "total": m.total,
                    "misses": m.misses,
                }
                for name, m in self.metrics.items()
            },
            "calibration": {
                "expected_calibration_error": round(self.calibration.error, 4),
                "reliability": [
                    {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                    for row in self.calibration.table()
                ],
            },
            "with_lexical_rerank": {k: round(v, 4) for k, v in self.hybrid.items()},
            "seconds": round(self.seconds, 2),
            "unsupported_claims": self.unsupported_claims,
        }
        if self.held_out is not None:
            data["held_out"] = self.held_out.as_dict()
        return data

    def print(self, console: Console, *, verbose: bool = False) -> None:
        """Print a table of the figures per set of cases, and the misses when ``verbose``."""
        table = Table(title=f"Flowdraft eval: {self.name}", title_justify="left")
        for column in ("metric", "score", "cases", "with lexical re-rank", "target"):
            table.add_column(column)
        for name, metric in self.metrics.items():
            target = TARGETS.get(name, TARGET)
            style = "green" if metric.value >= target else "red"
            dense = self.hybrid.get(name)
            table.add_row(
                name,
                f"[{style}]{metric.value:.1%}[/]",
                f"{metric.hits}/{metric.total}",
                f"{dense:.1%}" if dense is not None else "",
                f"{target:.0%}",
            )
        console.print(table)
        self.print_calibration(console)
        console.print(f"[dim]{self.seconds:.1f}s[/]")
        if verbose:
            for name, metric in self.metrics.items():
                for miss in metric.misses:
                    console.print(f"[yellow]{name}[/] {miss}")
        if self.held_out is not None:
            console.print()
            self.held_out.print(console, verbose=verbose)

    def print_calibration(self, console: Console) -> None:
        """Print the reliability table and the expected calibration error."""
        table = Table(
            title=f"Intent confidence calibration (ECE {self.calibration.error:.3f})",
            title_justify="left",
        )
        for column in ("confidence", "requests", "mean confidence", "right"):
            table.add_column(column)
        for row in self.calibration.table():
            table.add_row(
                f"{row['low']:.1f}–{row['high']:.1f}",
                str(row["count"]),
                f"{row['confidence']:.2f}",
                f"{row['accuracy']:.2f}",
            )
        console.print(table)
