#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""Compile time of one plain JobRunner against the hand-written pipeline.

    benchmarks/compile_time.py [--compiler g++] [--runs 3]

Compiles examples/01_quick_start/main.cpp (one JobRunner<int, long>, an
awaitable task, one producer, both callbacks) and
benchmarks/handwritten_bench.cpp (the hand-written try-first pipeline) with
-std=c++20 -O2, alternating, and prints the median user CPU time of each and
their ratio. User CPU time, not wall time: the machines are shared.
"""
import argparse
import os
import resource
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
UNITS = {
    "jobrunner": os.path.join(ROOT, "examples", "01_quick_start", "main.cpp"),
    "handwritten": os.path.join(HERE, "handwritten_bench.cpp"),
}


def user_seconds(compiler, source, out):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    subprocess.run([compiler, "-std=c++20", "-O2", "-I", os.path.join(ROOT, "include"),
                    "-DJOBRUNNER_BENCH_FAST=1", "-c", source, "-o", out], check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compiler", default="g++")
    ap.add_argument("--runs", type=int, default=3)
    o = ap.parse_args()
    times = {k: [] for k in UNITS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(o.runs):
            for name, source in UNITS.items():
                times[name].append(user_seconds(o.compiler, source, os.path.join(tmp, name + ".o")))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:12} {v:7.2f} s user (median of {o.runs}: {', '.join(f'{t:.2f}' for t in times[k])})")
    print(f"ratio jobrunner / handwritten: {med['jobrunner'] / med['handwritten']:.2f}")


if __name__ == "__main__":
    main()
