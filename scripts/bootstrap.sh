#!/usr/bin/env bash
# Install what Flowdraft needs on a fresh machine: uv, then the locked Python dependencies.
# Sourced by scripts/start and scripts/test; safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "flowdraft: installing uv…" >&2
  python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages uv 2>/dev/null \
    || python3 -m pip install --quiet uv
fi
uv sync --locked --quiet
