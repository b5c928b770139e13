#!/usr/bin/env bash
# Installs rllib-embed with its test and benchmark tools. Where no torch is installed it first takes
# PyTorch 2.13.0 (on the project's machines a CPU build from local disk; elsewhere set
# TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu" to avoid CUDA wheels).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if ! "$PY" -c "import torch" >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  "$PY" -m pip install --quiet ${TORCH_PIP_ARGS:-} torch==2.13.0
fi
"$PY" -m pip install --quiet -e ".[test,viz,bench,examples]"
# The robot task suites' simulators (gymnasium's MuJoCo envs, Meta-World), so that their tests run.
"$PY" -m pip install --quiet -e ".[mujoco,metaworld]"
