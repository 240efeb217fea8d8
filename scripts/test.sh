#!/usr/bin/env bash
# Installs segrec with every extra into .venv, then lints, type-checks and runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
bash scripts/install.sh
# Flower's own environment beside .venv (its pins conflict with segrec's; see the script)
bash scripts/install-federated.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q -p no:cacheprovider --timeout=900 --durations=15 "$@"
