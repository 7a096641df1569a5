#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""Items per second of a job shared through Redis Streams by 1, 2 and 4
runner processes (tests/redis/redis_worker: 20 workers each), and by one
process running 2 and 4 runners on threads of their own
(REDIS_WORKER_THREADS), on this machine, against a local redis-server (no
persistence).

    benchmarks/redis_bench.py [--worker build/ci-gcc/tests/redis_worker] [--items 20000]
                              [--delay-ms 0] [--rounds 3]

With --delay-ms 0 the tasks do nothing, so the time is the Redis round trips
(XREADGROUP batches, one EVAL per item for XACK + XADD + HINCRBY) and the
runner: the per-item cost of distribution. One JSON line per process count.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(a, runners, threads=1):
    port = free_port()
    tmp = tempfile.mkdtemp()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", tmp],
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            p = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True)
            if p.stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        # Items first, runners after: the clock covers the processing only.
        submit = subprocess.Popen([a.worker, str(port), "submit", str(a.items)],
                                  stdout=subprocess.PIPE, text=True)
        while True:  # the job runs once its total is set
            p = subprocess.run(["redis-cli", "-p", str(port), "HGET", "{test}:1:meta", "state"],
                               capture_output=True, text=True)
            if p.stdout.strip() == "running":
                break
            time.sleep(0.01)
        t0 = time.monotonic()
        env = dict(os.environ, REDIS_WORKER_THREADS=str(threads))
        procs = [subprocess.Popen([a.worker, str(port), "work", f"r{i}", str(a.delay_ms), "10000"],
                                  stdout=subprocess.DEVNULL, env=env) for i in range(runners)]
        submit.wait(timeout=600)
        elapsed = time.monotonic() - t0
        for p in procs:
            p.wait(timeout=60)
        return elapsed
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", default=os.path.join(HERE, "..", "build", "ci-gcc", "tests",
                                                     "redis_worker"))
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    for runners, threads in ((1, 1), (2, 1), (4, 1), (1, 2), (1, 4)):
        times = [one_run(a, runners, threads) for _ in range(a.rounds)]
        t = statistics.median(times)
        print(json.dumps({"processes": runners, "threads_each": threads, "items": a.items,
                          "delay_ms": a.delay_ms, "seconds": [round(x, 3) for x in times],
                          "median_seconds": round(t, 3), "items_per_second": round(a.items / t),
                          "us_per_item": round(t / a.items * 1e6, 1)}), flush=True)


if __name__ == "__main__":
    main()
