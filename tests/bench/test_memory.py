"""The memory benchmark counts a server's children (the embedded dev server) with it."""

from __future__ import annotations

import os
import subprocess
import sys

from assistant.bench.memory import tree_mib


def test_tree_memory_includes_child_processes() -> None:
    alone = tree_mib(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        with_child = tree_mib(os.getpid())
    finally:
        child.communicate(b"")
    assert alone["server_mib"] > 0
    assert with_child["children_mib"] > alone["children_mib"]
