#!/usr/bin/env bash
# Creates .venv and installs segrec with every extra, keeping torch on the local CPU wheel.
# Every install after torch runs under constraints.txt, so pip never pulls CUDA builds and
# the resolved versions are the pinned, tested ones.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -c constraints.txt -e ".[all,dev]"
# Prepare the fast text encoder once (ONNX export, int8, accuracy check), so the first
# `segrec embed` does not pay ~10 s for it; a failure here only makes that first run slower.
.venv/bin/segrec models prepare minilm || echo "warning: segrec models prepare failed; the first segrec embed will prepare the model"
