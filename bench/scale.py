"""Scale out (issue 13's figures), in one run:

(a) AI scoring throughput: embedded engine, one worker, two workers (bench/scale_scoring.py);
(b) CPU per judge call at 256 in flight (bench/scale_judge.py);
(c) the runner at 1,000 / 10,000 / 100,000 testcases: time per record and peak RSS
    (bench/scale_runner.py), and the server's listing, export and report at that size
    (bench/scale_server.py);
(d) the Action's install: size and cold set-up (bench/scale_install.py).

Each part also runs on its own (`python -m bench.scale_scoring`, ...), with its own options.

    python -m bench.scale [--quick] [--only a,b,c,d]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bench import scale_install, scale_judge, scale_runner, scale_scoring, scale_server

PARTS: dict[str, list[Callable[[bool], list[str]]]] = {
    "a": [scale_scoring.lines],
    "b": [scale_judge.lines],
    "c": [scale_runner.lines, scale_server.lines],
    "d": [scale_install.lines],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every part in its smoke size")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts to run (default: a,b,c,d)")
    args = parser.parse_args()
    chosen = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(chosen) - PARTS.keys())
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    for part in chosen:
        for measure in PARTS[part]:
            started = time.perf_counter()
            print(f"({part}) {measure.__module__} ...", file=sys.stderr, flush=True)
            for line in measure(args.quick):
                print(line, flush=True)
            print(f"({part}) done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
