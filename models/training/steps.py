"""The command line both training pipelines share: named steps, run in order."""

from __future__ import annotations

import argparse
import os
import time


def run_steps(doc: str, steps: dict, work: str) -> None:
    """Parses `[steps…] [--workers N]` and runs the named steps (all, when none is
    named) in the order of `steps`, a mapping of step name to a function of workers."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("steps", nargs="*", choices=list(steps) + [[]], default=[])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    os.makedirs(work, exist_ok=True)
    for name in args.steps or list(steps):
        start = time.time()
        print(f"== {name}", flush=True)
        steps[name](args.workers)
        print(f"== {name} done in {time.time() - start:.0f} s", flush=True)
