"""The LangGraph CLI's virtualenv (graphs/langgraph-server.txt) holds what Flowdraft needs."""

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def name_of(requirement: str) -> str:
    """Return a requirement's normalised distribution name."""
    bare = re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", bare).lower()


def test_every_dependency_is_pinned_for_the_langgraph_server() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    needed = {name_of(r) for r in project["dependencies"]}
    pinned = {
        name_of(line)
        for line in (REPO / "graphs/langgraph-server.txt").read_text().splitlines()
        if line and not line.startswith((" ", "#", "-e"))
    }
    missing = sorted(needed - pinned)
    assert not missing, (
        f"{missing} are not in graphs/langgraph-server.txt: regenerate it with the commands "
        "in graphs/langgraph-server.in"
    )
