#!/usr/bin/env bash
# Sets up, builds, and runs the main job on the embedded default configuration
# (LightGCN on ../shared/data/amazon, REF hyperparameters, to early stopping: ~2-3 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# --resume: a finished run prints its results again, an interrupted one continues.
exec ./build/bin/recgrid run --out runs/default --resume "$@"
