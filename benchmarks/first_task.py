#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""Time to first task start (the contract's first_task_us), several programs
side by side: each round runs every program once, in turn; prints the median,
min and max per program.

  benchmarks/first_task.py [--rounds 21] PROGRAM... -- WORKLOAD [N] [W] [Q] [P] [L]
"""
import argparse
import json
import statistics
import subprocess
import sys


def main():
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("programs", nargs="+")
    opts = parser.parse_args(argv[:split])
    contract = argv[split + 1:] or ["sleep", "2000", "-", "-", "-", "1"]
    times = {p: [] for p in opts.programs}
    for _ in range(opts.rounds):
        for p in opts.programs:
            out = subprocess.run([p] + contract, capture_output=True, text=True, check=True)
            line = json.loads(out.stdout.strip().splitlines()[-1])
            if not line["ok"]:
                sys.exit(f"{p}: wrong result: {line}")
            times[p].append(line["first_task_us"])
    for p, t in times.items():
        print(f"{p}: first task after {statistics.median(t):.1f} us (median of {len(t)}; "
              f"min {min(t):.1f}, max {max(t):.1f})")


if __name__ == "__main__":
    main()
