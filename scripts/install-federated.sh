#!/usr/bin/env bash
# Creates .venv-federated: Flower 1.42 (the deployment engine `segrec federated` runs on) with
# segrec's core, no torch. Flower pins typer<0.21, protobuf<7 and fastapi<0.139, which conflict
# with segrec's own environment (.venv), so it lives beside it. `segrec federated` finds it
# here (or set SEGREC_FLOWER_BIN to another Flower bin/ folder); `--engine local` needs none.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-federated/bin/python ] || "$PY" -m venv .venv-federated
.venv-federated/bin/python -m pip install -q --upgrade pip
.venv-federated/bin/python -m pip install -q -c constraints-federated.txt \
  flwr==1.42.0 opendp==0.16.0 numpy scipy pandas pyarrow scikit-learn pydantic psutil threadpoolctl
.venv-federated/bin/python -m pip install -q --no-deps -e .
.venv-federated/bin/flwr --version
