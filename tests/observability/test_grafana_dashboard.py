"""The Grafana dashboard in the repository charts metrics the product really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from assistant.observability import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "flowdraft.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}


def exported_series() -> set[str]:
    """Return every sample name Flowdraft's metrics can have."""
    names = set()
    for item in vars(metrics).values():
        if isinstance(item, MetricWrapperBase):
            for family in item.describe():
                names |= {family.name + s for s in SUFFIXES.get(family.type, ("",))}
    return names


def test_every_query_names_an_exported_metric() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exported = exported_series()
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"flowdraft_[a-z_]+", target["expr"])
    }
    assert queried and queried <= exported, queried - exported
    # Every metric the product defines is on the dashboard somewhere.
    charted = {re.sub(r"_(bucket|count|sum|total)$", "", name) for name in queried}
    defined = {re.sub(r"_(bucket|count|sum|total)$", "", name) for name in exported}
    assert defined <= charted, defined - charted
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
