#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""Runs every implementation of the benchmark contract side by side.

    benchmarks/harness.py [--build DIR] [--rounds R] [--workloads overhead,multi,...]
                          [--impls jobrunner,handwritten_fast,...] [-- N W Q P L]

Builds the C++ benchmarks (Release, unless --no-build), then for each workload
runs every implementation once per round, in an order that rotates from round
to round, and prints the median of each measure and, per implementation, the
median over rounds of its ratio to the runner *within the same round* (the
machines are shared and noisy: only same-run ratios are stable). Every run's
JSON line is appended to --out (default: DIR/bench-results.jsonl).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# jobrunner_untimed: the runner with JobConfig::measure_durations off.
CXX_IMPLS = ["jobrunner", "jobrunner_untimed", "handwritten_fast", "handwritten_await"]
GO_IMPLS = ["go_1", "go"]  # GOMAXPROCS=1, and Go's default (one thread per core)
ALL_IMPLS = CXX_IMPLS + GO_IMPLS + ["asyncio"]


def build(build_dir, compiler):
    subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-G", "Ninja",
                    "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_COMPILER=" + compiler,
                    "-DJOBRUNNER_BUILD_BENCHMARKS=ON", "-DJOBRUNNER_BUILD_TESTS=OFF",
                    "-DJOBRUNNER_BUILD_EXAMPLES=OFF"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, "--target", "jobrunner_bench",
                    "handwritten_fast_bench", "handwritten_await_bench"], check=True,
                   stdout=subprocess.DEVNULL)


def build_go(build_dir):
    """Builds benchmarks/go_bench (Go's standard library only, Debian's golang-go)."""
    out = os.path.join(build_dir, "benchmarks", "go_bench")
    env = dict(os.environ, GO111MODULE="off", GOCACHE=os.path.abspath(os.path.join(build_dir, "go-cache")))
    try:
        subprocess.run(["go", "build", "-o", os.path.abspath(out), os.path.join(HERE, "go_bench", "main.go")],
                       check=True, env=env)
    except FileNotFoundError:
        sys.exit("harness: no `go` command: scripts/setup.sh installs golang-go")


def command(impl, build_dir):
    if impl == "asyncio":
        return [sys.executable, os.path.join(HERE, "asyncio_bench.py")]
    if impl in GO_IMPLS:
        return [os.path.join(build_dir, "benchmarks", "go_bench")]
    name = "jobrunner_bench" if impl.startswith("jobrunner") else impl + "_bench"
    return [os.path.join(build_dir, "benchmarks", name)]


def run_one(impl, build_dir, workload, args, env):
    env = dict(env)
    env.pop("GOMAXPROCS", None)
    if impl == "go_1":
        env["GOMAXPROCS"] = "1"
    if impl == "jobrunner_untimed":
        env["JOBRUNNER_BENCH_POLICY"] = "untimed"
    out = subprocess.run(command(impl, build_dir) + [workload] + args, check=True,
                         capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--compiler", default="g++")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workloads", default="overhead,multi,sleep,memory")
    ap.add_argument("--impls", default=",".join(ALL_IMPLS))
    ap.add_argument("--out")
    ap.add_argument("args", nargs="*", help="N W Q P L, as in the contract ('-' keeps a default)")
    o = ap.parse_args()
    impls = o.impls.split(",")
    if not o.no_build:
        build(o.build, o.compiler)
        if any(i in GO_IMPLS for i in impls):
            build_go(o.build)
    out_path = o.out or os.path.join(o.build, "bench-results.jsonl")
    env = dict(os.environ)
    failed = False
    with open(out_path, "a") as out:
        for workload in o.workloads.split(","):
            runs = {i: [] for i in impls}
            ratios = {i: [] for i in impls}
            for r in range(o.rounds):
                order = impls[r % len(impls):] + impls[:r % len(impls)]
                this_round = {}
                for impl in order:
                    line = run_one(impl, o.build, workload, o.args, env)
                    line["round"] = r
                    line["impl"] = impl
                    out.write(json.dumps(line) + "\n")
                    failed |= not line["ok"]
                    runs[impl].append(line)
                    this_round[impl] = line["seconds"]
                    print(f"round {r} {workload:8} {impl:18} {line['seconds']:9.4f} s "
                          f"ok={line['ok']}", flush=True)
                if "jobrunner" in this_round:
                    for impl, seconds in this_round.items():
                        ratios[impl].append(seconds / this_round["jobrunner"])
            print(f"\n{workload}: medians over {o.rounds} rounds")
            print(f"{'impl':18} {'seconds':>10} {'ns/item':>10} {'peak KiB':>10} "
                  f"{'time/runner':>12}" + ("  efficiency" if workload == "sleep" else ""))
            for impl in impls:
                med = lambda k: statistics.median(x[k] for x in runs[impl])
                ratio = statistics.median(ratios[impl]) if ratios[impl] else float("nan")
                extra = f"  {med('efficiency'):10.4f}" if workload == "sleep" else ""
                print(f"{impl:18} {med('seconds'):10.4f} {med('ns_per_item'):10.1f} "
                      f"{med('peak_rss_kib'):10.0f} {ratio:12.3f}{extra}")
            print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
