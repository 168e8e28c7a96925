"""The scale-out benchmark's table: two-to-one ratios, cores, load and CPU per process."""

from __future__ import annotations

import pytest

from assistant.bench.scaleout import p95, print_table


def row(replicas: int, tickets: float, runs: float) -> dict[str, object]:
    return {
        "replicas": replicas,
        "workers": replicas,
        "tickets_per_s": tickets,
        "ticket_p95_s": 2.0,
        "runs_per_s": runs,
        "run_p95_s": 4.0 / replicas,
        "cpu": {"replica-1": 3.2, "temporal": 4.0},
        "seconds": 10.0,
    }


def test_the_table_gives_each_figure_for_both_sizes_and_their_ratio(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = {"cores": 2, "load_average": (1.0, 0.5, 0.25), "rows": [row(1, 10, 6), row(2, 12, 9)]}
    print_table(result)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("cores: 2") and "1.00, 0.50, 0.25" in lines[0]
    assert lines[4].split()[2:] == ["1.20", "1.00", "1.50", "0.50"]
    assert "temporal 4.0s" in lines[5]


def test_p95_is_the_nearest_rank() -> None:
    assert p95([float(n) for n in range(1, 101)]) == 95.0
    assert p95([3.0]) == 3.0 and p95([]) == 0.0
