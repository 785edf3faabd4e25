#!/usr/bin/env bash
# make lint: ruff and the mandatory pylint-odoo checks, through pre-commit, on every file.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .build/env.sh ] || { echo "[lint] run 'make setup' first" >&2; exit 2; }
# shellcheck source=/dev/null
. .build/env.sh
export PATH="$VENV/bin:$PATH"
exec pre-commit run --all-files --show-diff-on-failure
