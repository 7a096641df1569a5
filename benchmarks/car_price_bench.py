#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""The car-price fetcher against its server on loopback (issue 5's figures).

    benchmarks/car_price_bench.py [--bin build/ci-gcc/examples] [--rounds 3] [--rows 20000]

1. Server latency 0 ms, 50 workers: requests per second (median of rounds).
2. Server latency 20 ms, 50 workers: efficiency = ideal makespan
   (rows x 20 ms / 50) / measured makespan.
Both processes share this machine's cores, so (1) measures the client and
the server together. One JSON line per measurement.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CARS = os.path.join(HERE, "..", "examples", "car_price_fetcher", "data", "cars.csv")


def make_input(tmp, rows):
    with open(CARS) as f:
        header, *lines = f.read().splitlines()
    path = os.path.join(tmp, "cars.csv")
    with open(path, "w") as f:
        f.write(header + "\n")
        for i in range(rows):
            f.write(lines[i % len(lines)] + "\n")
    return path


def run(bin_dir, tmp, inp, latency_ms, workers):
    port_file = os.path.join(tmp, "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    server = subprocess.Popen([os.path.join(bin_dir, "car_price_server"), "--port", "0",
                               "--port-file", port_file, "--latency-ms", str(latency_ms)],
                              stdout=subprocess.DEVNULL)
    try:
        while not os.path.exists(port_file):
            time.sleep(0.01)
        port = open(port_file).read().strip()
        p = subprocess.run([os.path.join(bin_dir, "car_price_fetcher"), "--url",
                            f"http://127.0.0.1:{port}/v1/price", "--input", inp, "--output",
                            os.devnull, "--progress", "none", "--workers", str(workers)],
                           capture_output=True, text=True, check=True)
        m = re.search(r"rows: (\d+) priced.*\n\s+([\d.]+) s, ([\d.]+) cars/s, latency p50 ([\d.]+) ms, "
                      r"p99 ([\d.]+) ms", p.stderr)
        return {"priced": int(m.group(1)), "seconds": float(m.group(2)),
                "per_second": float(m.group(3)), "p50_ms": float(m.group(4)),
                "p99_ms": float(m.group(5))}
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "ci-gcc", "examples"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=50)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inp = make_input(tmp, a.rows)
        for latency in (0, 20):
            runs = [run(a.bin, tmp, inp, latency, a.workers) for _ in range(a.rounds)]
            secs = statistics.median(r["seconds"] for r in runs)
            out = {"latency_ms": latency, "workers": a.workers, "rows": a.rows,
                   "rounds": a.rounds, "median_seconds": secs,
                   "median_per_second": statistics.median(r["per_second"] for r in runs),
                   "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                   "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                   "all_priced": all(r["priced"] == a.rows for r in runs)}
            if latency:
                ideal = a.rows * latency / 1000.0 / a.workers
                out["ideal_seconds"] = ideal
                out["efficiency"] = ideal / secs
            print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
