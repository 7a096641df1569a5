#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""Runs the benchmark sweeps behind the plots of benchmarks/README.md, one
process per point (peak RSS is per process), writes CSV files to
benchmarks/results/ and draws the PNGs with gnuplot (benchmarks/plot.gp).

    benchmarks/sweep.py [--build DIR] [--no-build] [--only tradeoff,concurrency,scale,threads]
"""
import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, HERE)
import harness  # noqa: E402  (the build and the contract's command lines)


def last_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_csv(name, rows):
    path = os.path.join(RESULTS, name + ".csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    print("wrote", os.path.relpath(path, ROOT), flush=True)


def tradeoff(build):
    rows = []
    for q in [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000]:
        line = last_json([os.path.join(build, "benchmarks", "jobrunner_tradeoff_bench"),
                          "20000", "50", "20", str(q)])
        rows.append(line)
        print("tradeoff", line, flush=True)
    write_csv("tradeoff", rows)


def concurrency(build):
    rows = []
    for w in [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]:
        line = harness.run_one("jobrunner", build, "sleep", ["2000", str(w)], None)
        rows.append({"workers": w, "seconds": line["seconds"], "ideal_s": line["ideal_s"],
                     "efficiency": line["efficiency"], "ok": line["ok"]})
        print("concurrency", rows[-1], flush=True)
    write_csv("concurrency", rows)


def scale(build):
    rows = []
    for n in [10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000]:
        row = {"n": n}
        for impl in ["jobrunner", "handwritten_fast"]:
            line = harness.run_one(impl, build, "memory", [str(n)], None)
            row[impl + "_rss_kib"] = line["peak_rss_kib"]
            row[impl + "_ok"] = line["ok"]
        rows.append(row)
        print("scale", row, flush=True)
    write_csv("scale", rows)


def threads(build):
    rows = []
    for t in [1, 2]:
        env = dict(os.environ, JOBRUNNER_BENCH_THREADS=str(t))
        row = {"threads": t}
        for impl in ["jobrunner", "handwritten_fast"]:
            line = harness.run_one(impl, build, "cpu", ["200000"], env)
            row[impl + "_items_per_s"] = line["items_per_s"]
            row[impl + "_ok"] = line["ok"]
        rows.append(row)
        print("threads", row, flush=True)
    write_csv("threads", rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--compiler", default="g++")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--only", default="tradeoff,concurrency,scale,threads")
    o = ap.parse_args()
    if not o.no_build:
        harness.build(o.build, o.compiler)
        subprocess.run(["cmake", "--build", o.build, "--target", "jobrunner_tradeoff_bench"],
                       check=True, stdout=subprocess.DEVNULL)
    os.makedirs(RESULTS, exist_ok=True)
    for name in o.only.split(","):
        globals()[name](o.build)
    compiler = subprocess.run([o.compiler, "--version"], capture_output=True,
                              text=True).stdout.splitlines()[0]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    with open(os.path.join(RESULTS, "machine.txt"), "w") as f:
        f.write(f"date: {datetime.date.today()}\ncpu: {cpu}, {os.cpu_count()} cores\n"
                f"compiler: {compiler}, -O3 -DNDEBUG (CMake Release)\n"
                f"python: {platform.python_version()}\n")
    subprocess.run(["gnuplot", os.path.join(HERE, "plot.gp")], check=True, cwd=RESULTS)
    print("plots in", os.path.relpath(RESULTS, ROOT))


if __name__ == "__main__":
    main()
