#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""The original producer-consumer model in Python asyncio (stdlib only), under
the benchmark contract of benchmarks/README.md:

    asyncio_bench.py WORKLOAD [N] [W] [Q] [P] [L]

Producers put items into asyncio.Queue(maxsize=Q); W workers run the task and
put results into a second bounded queue; one result handler sums them. End of
input travels in band (one None per worker), as in the C++ implementations.
"""
import asyncio
import json
import math
import sys
import time

DEFAULTS = {"overhead": 1_000_000, "multi": 1_000_000, "cpu": 1_000_000,
            "sleep": 10_000, "memory": 10_000_000}


def usage():
    sys.stderr.write("usage: asyncio_bench.py WORKLOAD [N] [W] [Q] [P] [L]\n")
    sys.exit(2)


def parse(argv):
    if len(argv) < 2 or argv[1] not in DEFAULTS:
        usage()
    o = {"workload": argv[1], "n": DEFAULTS[argv[1]], "workers": 50, "queue": 100,
         "producers": 8 if argv[1] == "multi" else 1,
         "latency_ms": 10 if argv[1] == "sleep" else 0}
    for key, value in zip(["n", "workers", "queue", "producers", "latency_ms"], argv[2:]):
        if value != "-":
            o[key] = int(value)
    if o["workers"] < 1 or o["producers"] < 1 or o["n"] < 0 or o["queue"] < 0:
        usage()
    return o


def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def cpu_work(x):
    h = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    for _ in range(4500):
        h = ((h ^ (h >> 29)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    return x * 2


async def main(o):
    n, workers, producers = o["n"], o["workers"], o["producers"]
    latency = o["latency_ms"] / 1000.0
    cpu = o["workload"] == "cpu"
    # asyncio.Queue(0) is unbounded; the contract's Q=0 (rendezvous) maps to 1.
    work = asyncio.Queue(maxsize=max(o["queue"], 1))
    results = asyncio.Queue(maxsize=max(o["queue"], 1))
    state = {"producers_left": producers, "workers_left": workers, "sum": 0, "count": 0}

    async def task(x):
        if latency > 0:
            await asyncio.sleep(latency)
            return x * 2
        if cpu:
            return cpu_work(x)
        return x * 2

    async def producer(p):
        per = n // producers
        first = p * per
        last = n if p == producers - 1 else first + per
        for i in range(first, last):
            await work.put(i)
        state["producers_left"] -= 1
        if state["producers_left"] == 0:
            for _ in range(workers):
                await work.put(None)

    async def worker():
        while True:
            x = await work.get()
            if x is None:
                break
            await results.put(await task(x))
        state["workers_left"] -= 1
        if state["workers_left"] == 0:
            await results.put(None)

    async def result_handler():
        while True:
            r = await results.get()
            if r is None:
                break
            state["sum"] += r
            state["count"] += 1
        return time.perf_counter()

    start = time.perf_counter()
    handler = asyncio.create_task(result_handler())
    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    tasks += [asyncio.create_task(producer(p)) for p in range(producers)]
    end = await handler
    await asyncio.gather(*tasks)
    return end - start, state["sum"], state["count"]


def report(o, seconds, total, count):
    n = o["n"]
    expected = n * (n - 1)
    line = {"impl": "asyncio", "workload": o["workload"], "n": n, "seconds": round(seconds, 6),
            "items_per_s": round(n / seconds, 1) if seconds > 0 else 0.0, "sum": total,
            "results": count, "expected_sum": expected, "ok": count == n and total == expected,
            "ns_per_item": round(seconds * 1e9 / n, 2) if n else 0.0, "workers": o["workers"],
            "queue": o["queue"], "producers": o["producers"], "latency_ms": o["latency_ms"],
            "threads": 1, "peak_rss_kib": peak_rss_kib()}
    if o["workload"] == "sleep":
        ideal = math.ceil(n / o["workers"]) * o["latency_ms"] / 1000.0
        line["ideal_s"] = ideal
        line["efficiency"] = round(ideal / seconds, 4) if seconds > 0 else 0.0
    print(json.dumps(line))


if __name__ == "__main__":
    options = parse(sys.argv)
    report(options, *asyncio.run(main(options)))
