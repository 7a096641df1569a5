#!/usr/bin/env bash
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
# Instructions per item (callgrind: exact whatever the machine's load) of the
# runner with each policy on alone at a setting that never binds
# (JOBRUNNER_BENCH_POLICY, see jobrunner_bench.cpp), and of the hand-written
# fast path: runs at 50,000 and 150,000 items, per item = difference / 100,000.
#
#   benchmarks/policy_cost.sh [BENCH_DIR]   (default build/bench/benchmarks, Release)
set -euo pipefail
B=${1:-build/bench/benchmarks}
per_item() { # cmd...
  a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 50000 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d ,)
  b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 150000 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d ,)
  echo $(( (b - a) / 100000 ))
}
for w in overhead multi; do
  echo "$w handwritten_fast $(per_item $B/handwritten_fast_bench $w)"
  for p in none timeout rate retry ordered adaptive budget deadline; do
    if [ $p = none ]; then unset JOBRUNNER_BENCH_POLICY; else export JOBRUNNER_BENCH_POLICY=$p; fi
    echo "$w jobrunner:$p $(per_item $B/jobrunner_bench $w)"
    [ $w = multi ] && break
  done
  unset JOBRUNNER_BENCH_POLICY
done
