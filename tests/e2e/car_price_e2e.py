#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""End-to-end tests of the car-price fetcher against the car-price server,
both as real processes on loopback.

    car_price_e2e.py --server BIN --fetcher BIN --cars CSV --case NAME

Each case starts a server with its faults, runs the fetcher, and checks the
output: every input row exactly once, with a price or an error.
"""
import argparse
import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ARGS = None


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def fnv1a(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def model_price(make, model, year, mileage):
    """The server's price model (examples/car_price_server/price_model.hpp)."""
    base = 14000.0 + (fnv1a(make) % 24) * 1500.0 + (fnv1a(model) % 16) * 900.0
    aged = base * 0.88 ** max(0, 2026 - year)
    wear = max(0.2, 1.0 - max(0, mileage) / 500000.0)
    return round(aged * wear * 100.0) / 100.0


class Server:
    def __init__(self, tmp, *options):
        self.port_file = os.path.join(tmp, "port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.scheme = "https" if "--tls-cert" in options else "http"
        self.proc = subprocess.Popen(
            [ARGS.server, "--port", "0", "--port-file", self.port_file, *options],
            stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30  # a sanitizer build on a loaded machine starts slowly
        while not (os.path.exists(self.port_file) and os.path.getsize(self.port_file) > 0):
            check(self.proc.poll() is None, "the server exited at start")
            check(time.monotonic() < deadline, "the server wrote no port file in 30 s")
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())
        host = "localhost" if self.scheme == "https" else "127.0.0.1"
        self.url = f"{self.scheme}://{host}:{self.port}/v1/price"

    def stats(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as r:
            return json.load(r)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run_fetcher(url, input_path, output_path, *options, timeout=120):
    cmd = [ARGS.fetcher, "--url", url, "--input", input_path, "--output", output_path,
           "--progress", "lines", *options]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    sys.stderr.write(p.stderr[-3000:])
    return p.returncode, p.stderr, time.monotonic() - t0


def read_rows(path, limit=None):
    """The data rows of a CSV input with their line numbers."""
    rows = {}
    with open(path, newline="") as f:
        lines = f.read().split("\n")
    for number, text in enumerate(lines[1:], start=2):
        if text.strip():
            rows[number] = text
        if limit and len(rows) >= limit:
            break
    return rows


def small_input(tmp, n):
    path = os.path.join(tmp, f"cars{n}.csv")
    with open(ARGS.cars) as src, open(path, "w") as dst:
        for i, line in enumerate(src):
            if i > n:
                break
            dst.write(line)
    return path


def read_output(path):
    with open(path) as f:
        if path.endswith(".jsonl"):
            return [json.loads(line) for line in f if line.strip()]
        return list(csv.DictReader(f))


def check_every_row_once(input_path, out):
    rows = read_rows(input_path)
    lines = [int(r["line"]) for r in out]
    check(len(lines) == len(set(lines)), "a row appears twice in the output")
    check(set(lines) == set(rows), f"rows missing or extra: {sorted(set(rows) ^ set(lines))[:10]}")
    for r in out:
        if r["status"] == "ok":
            price = float(r["price"])
            expect = model_price(r["make"], r["model"], int(r["year"]), int(r["mileage"]))
            check(abs(price - expect) < 0.011, f"wrong price on line {r['line']}: {price} != {expect}")
        else:
            check(r.get("error"), f"line {r['line']} has neither a price nor an error")


def case_faults(tmp):
    inp = small_input(tmp, 600)
    # Slow answers (10 s) far beyond the timeout (2 s), and the timeout far
    # beyond a normal answer even on a loaded machine under ASan (at 200 ms,
    # three runs in parallel had 529 of 600 rows time out 5 times).
    server = Server(tmp, "--latency-ms", "1", "--jitter-ms", "1", "--error-rate", "0.05",
                    "--drop-rate", "0.03", "--slow-rate", "0.01", "--slow-ms", "10000",
                    "--truncate-rate", "0.01", "--garbage-rate", "0.01", "--seed", "7")
    try:
        out_path = os.path.join(tmp, "out.csv")
        code, err, _ = run_fetcher(server.url, inp, out_path, "--timeout", "2000", "--retries", "4",
                                   "--backoff", "5")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        stats = server.stats()
        check(stats["errors_500"] > 0 and stats["dropped"] > 0 and stats["slow"] > 0,
              f"the faults were not injected: {stats}")
        ok = sum(r["status"] == "ok" for r in out)
        check(ok >= 590, f"only {ok} of 600 rows priced despite 4 retries")
        check(code in (0, 1), f"exit status {code}")
        retried = [r for r in out if int(r["attempts"]) > 1]
        check(retried, "no row needed a retry")
    finally:
        server.stop()


def case_pushback(tmp):
    inp = small_input(tmp, 300)
    server = Server(tmp, "--latency-ms", "2", "--rate-429", "0.05", "--max-429", "2",
                    "--retry-after", "1")
    try:
        out_path = os.path.join(tmp, "out.jsonl")
        trace = os.path.join(tmp, "trace.txt")
        code, err, elapsed = run_fetcher(server.url, inp, out_path, "--trace", trace)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 0, f"exit status {code}")
        check(all(r["status"] == "ok" for r in out), "a pushed-back row did not end priced")
        stats = server.stats()
        check(stats["answers_429"] == 2, f"expected 2 429s: {stats['answers_429']}")
        # The whole job paused: from the moment the fetcher saw a 429 until
        # its Retry-After (1 s) ran out, no request started, and none was
        # sent but by a task that had started before the 429 was seen. (The
        # server's own clock cannot tell those apart: on a loaded machine a
        # request sent before the 429 was seen can reach it well after the
        # 429 was sent; the fetcher's trace records each event when it
        # happens.)
        events = read_trace(trace)
        answers_429 = [t for t, ev, _, status in events if ev == "answer" and status == 429]
        check(len(answers_429) == 2, f"the trace has {len(answers_429)} 429 answers")
        started = {}
        for t, ev, line, _ in events:
            if ev == "start":
                started.setdefault(line, []).append(t)
        for t429 in answers_429:
            window = [(t, ev, line) for t, ev, line, _ in events if t429 < t < t429 + 0.95]
            starts = [x for x in window if x[1] == "start"]
            check(not starts, f"{len(starts)} requests started during the pause after the 429 at "
                  f"{t429:.3f}: {starts[:3]}")
            for t, ev, line in window:
                if ev == "send":
                    check(any(s < t429 for s in started.get(line, [])),
                          f"line {line} was sent at {t:.3f}, during the pause after the 429 at "
                          f"{t429:.3f}, by a task that started after it")
        check("paused 2.0 s" in err or "paused 1." in err or "paused 2." in err,
              "the summary does not report the pause")
        check(elapsed >= 1.0, "the job did not wait for Retry-After")
    finally:
        server.stop()


def read_trace(path):
    """The fetcher's --trace: (seconds, event, line, HTTP status) in time order."""
    events = []
    with open(path) as f:
        for text in f:
            ns, event, line, status = text.split()
            events.append((int(ns) / 1e9, event, int(line), int(status)))
    return sorted(events)


def case_https(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    inp = small_input(tmp, 300)
    server = Server(tmp, "--tls-cert", cert, "--tls-key", key, "--drop-rate", "0.02")
    try:
        out_path = os.path.join(tmp, "out.jsonl")
        code, _, _ = run_fetcher(server.url, inp, out_path, "--ca-file", cert)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 0 and all(r["status"] == "ok" for r in out), f"https run: exit {code}")
        # Without the certificate trusted, every request fails verification.
        code, _, _ = run_fetcher(server.url, inp, out_path, "--retries", "0", "--max-failures", "5")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 3, f"an untrusted certificate should exhaust the budget: exit {code}")
        check(any("certificate" in r.get("error", "") for r in out), "no certificate error reported")
    finally:
        server.stop()


def case_malformed(tmp):
    inp = os.path.join(tmp, "bad.csv")
    with open(inp, "w") as f:
        f.write("Make,Model,Year,Mileage,Note\n"
                "Toyota,Corolla,2018,60000,fine\n"
                "Honda,Civic,twenty,1000,bad year\n"
                "Ford,\"F-150, XL\",2020,30000,\"quoted, with comma\"\n"
                "Mazda,CX-5,2019\n"
                "Kia,\"Soul,2017,5000,unterminated\n"
                "\n"
                "BMW,X5,2021,-5,negative mileage\n"
                "Tesla,Model 3,2022,12000,fine\r\n")
    server = Server(tmp)
    try:
        out_path = os.path.join(tmp, "out.csv")
        code, err, _ = run_fetcher(server.url, inp, out_path)
        out = read_output(out_path)
        by_line = {int(r["line"]): r for r in out}
        check(sorted(by_line) == [2, 3, 4, 5, 6, 8, 9], f"lines: {sorted(by_line)}")
        check(len(out) == 7, "a row appears twice")
        for good in (2, 4, 9):
            check(by_line[good]["status"] == "ok", f"line {good}: {by_line[good]}")
        check(by_line[4]["model"] == "F-150, XL", "a quoted field was misread")
        for bad in (3, 5, 6, 8):
            check(by_line[bad]["status"] == "invalid", f"line {bad} not reported invalid")
            check(f"line {bad} skipped" in err, f"line {bad} not reported on stderr")
        check(code == 1, f"exit status {code} with invalid rows")
    finally:
        server.stop()


def case_hostile(tmp):
    # A server that hangs, sends garbage, cuts bodies short or sends a huge
    # header or body: every row still ends, with a price or an error, and
    # nothing hangs. (The per-request timeout is 1 s, not less: on a loaded
    # machine under ASan a normal answer can take a few hundred ms, and
    # this case is not about timeouts of normal answers.) The circuit breaker
    # is off: with 60% of requests failing it would open, and a run of failed
    # probes could end the job unavailable (exit 3); that is the cases
    # dead_server and failing_server.
    inp = small_input(tmp, 200)
    server = Server(tmp, "--hang-rate", "0.15", "--garbage-rate", "0.15", "--truncate-rate", "0.15",
                    "--huge-rate", "0.15", "--seed", "3")
    try:
        out_path = os.path.join(tmp, "out.jsonl")
        code, _, elapsed = run_fetcher(server.url, inp, out_path, "--timeout", "1000",
                                       "--retries", "1", "--backoff", "1", "--breaker", "0",
                                       timeout=120)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        statuses = {r["status"] for r in out}
        check(server.stats()["huge"] > 0, "no huge answer was sent")
        check("timed_out" in statuses and "failed" in statuses and "ok" in statuses,
              f"statuses {statuses}")
        check(code == 1, f"exit status {code}")
    finally:
        server.stop()
    # Only huge answers: each one ends at the parser's limit, whatever the
    # machine's speed (a timeout far beyond reading 64 KiB).
    inp = small_input(tmp, 20)
    server = Server(tmp, "--huge-rate", "1", "--seed", "3")
    try:
        out_path = os.path.join(tmp, "huge.jsonl")
        code, _, _ = run_fetcher(server.url, inp, out_path, "--timeout", "30000", "--retries", "0",
                                 timeout=120)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(all(r["status"] == "failed" and "limit" in r["error"] for r in out),
              f"huge answers not reported at a parser limit: "
              f"{[r for r in out if 'limit' not in r.get('error', '')][:2]}")
        check(code == 1, f"exit status {code}")
    finally:
        server.stop()


def case_budget(tmp):
    inp = small_input(tmp, 1000)
    server = Server(tmp, "--error-rate", "0.5", "--latency-ms", "1")
    try:
        out_path = os.path.join(tmp, "out.csv")
        code, err, _ = run_fetcher(server.url, inp, out_path, "--retries", "0",
                                   "--max-failure-ratio", "0.2")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 3, f"exit status {code}, expected 3 (failure budget)")
        check(sum(r["status"] == "cancelled" for r in out) > 0, "nothing reported cancelled")
        check("failure budget" in err, "no failure-budget message")
    finally:
        server.stop()


def case_hostile_clients(tmp):
    # Clients that send garbage, huge headers or bodies, never finish, or
    # open too many connections: the server answers or closes each, stays
    # up, and its open connections fall back to zero.
    import socket
    server = Server(tmp, "--idle-timeout", "5", "--max-connections", "20")

    def exchange(payload, read=True):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            s.sendall(payload)
            if not read:
                return s
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data
                data += chunk
        except (ConnectionResetError, BrokenPipeError):
            return data if read else s
        finally:
            if read:
                s.close()

    try:
        check(exchange(b"\x00\xff garbage \r\n\r\n" * 10).startswith(b"HTTP/1.1 400"),
              "garbage was not answered 400")
        huge_header = b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"
        check(exchange(huge_header).startswith(b"HTTP/1.1 431"), "a huge header was not refused")
        huge_body = (b"POST /v1/price HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n" + b"{" * 20000)
        check(exchange(huge_body).startswith(b"HTTP/1.1 413"), "a huge body was not refused")
        wrong_length = b"POST /v1/price HTTP/1.1\r\nContent-Length: 5\r\n\r\n{\"make\": 1}"
        check(b"400" in exchange(wrong_length).split(b"\r\n")[0], "a wrong length was not refused")
        # Slow clients that never finish their request, beyond the limit.
        slow = [exchange(b"POST /v1/price HTTP/1.1\r\nContent-Le", read=False) for _ in range(30)]
        # Until the server has accepted 20 of them, a new one may be served:
        # ask until refused (a loaded machine accepts slowly), well within
        # the 5 s idle timeout that closes the slow ones.
        deadline = time.monotonic() + 4
        while True:
            busy = exchange(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            if busy.startswith(b"HTTP/1.1 503") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        check(busy.startswith(b"HTTP/1.1 503"), "a connection beyond the limit was not refused")
        # The idle timeout closes the slow ones: then a new client is served.
        deadline = time.monotonic() + 20
        while not busy.startswith(b"HTTP/1.1 200") and time.monotonic() < deadline:
            time.sleep(0.2)
            busy = exchange(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        check(busy.startswith(b"HTTP/1.1 200"), "the idle timeout did not close the slow clients")
        for s in slow:
            s.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=10) as r:
            check(r.status == 200, "the server is not healthy after the abuse")
        stats = server.stats()
        deadline = time.monotonic() + 10  # closes are seen by the server asynchronously
        while stats["open_connections"] > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
            stats = server.stats()
        check(stats["refused"] >= 10, f"connections beyond the limit were served: {stats['refused']}")
        check(stats["max_open_connections"] <= 32, f"open connections {stats['max_open_connections']}")
        check(stats["open_connections"] <= 1, f"connections left open: {stats['open_connections']}")
        check(server.proc.poll() is None, "the server died")
    finally:
        server.stop()


def case_distributed(tmp):
    # One submitter and three fetchers sharing the job through a real
    # redis-server; one fetcher is killed with SIGKILL while it holds cars.
    # Every row still appears once in the submitter's output, priced. (2% of
    # answers are 500s: 5 attempts make a row failing them all a 3e-9 event;
    # with 2 it happened in CI.)
    import shutil
    import signal
    import socket
    redis_server = shutil.which("redis-server")
    redis_cli = shutil.which("redis-cli")
    check(redis_server is not None and redis_cli is not None,
          "redis-server is not installed (scripts/setup.sh)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        rport = s.getsockname()[1]
    inp = small_input(tmp, 1500)
    # No redis yet: the submitter stops with the reason, exit status 1, and
    # still writes one line per row (cancelled, with the reason).
    out_path = os.path.join(tmp, "refused.jsonl")
    r = subprocess.run([ARGS.fetcher, "--redis", f"127.0.0.1:{rport}", "--redis-role", "submit",
                        "--input", inp, "--output", out_path, "--redis-job", "e2e"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "Connection refused" in r.stderr,
          f"without redis the submitter said: {r.returncode} {r.stderr[-500:]!r}")
    out = read_output(out_path)
    check_every_row_once(inp, out)
    check(all(x["status"] == "cancelled" and "Connection refused" in x.get("error", "")
              for x in out), "rows without redis were not written cancelled with the reason")
    # The submitter's output cannot be written: exit status 4, no counts.
    r = subprocess.run([ARGS.fetcher, "--redis", f"127.0.0.1:{rport}", "--redis-role", "submit",
                        "--input", inp, "--output", "/dev/full", "--format", "csv",
                        "--redis-job", "e2e"], capture_output=True, text=True, timeout=60)
    check(r.returncode == 4 and "No space left on device" in r.stderr
          and " priced," not in r.stderr, f"submitter to /dev/full: {r.returncode} {r.stderr[-500:]!r}")
    # A Redis host that cannot be resolved: the same (it once wrote no row).
    r = subprocess.run([ARGS.fetcher, "--redis", "no-such-host.invalid:6379", "--redis-role",
                        "submit", "--input", inp, "--output", out_path, "--redis-job", "e2e"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "cannot connect" in r.stderr,
          f"with an unresolvable redis host the submitter said: {r.returncode} {r.stderr[-500:]!r}")
    out = read_output(out_path)
    check_every_row_once(inp, out)
    check(all(x["status"] == "cancelled" and "cannot connect" in x.get("error", "")
              for x in out), "rows with an unresolvable host were not written cancelled")
    redis = subprocess.Popen([redis_server, "--port", str(rport), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", tmp],
                             stdout=subprocess.DEVNULL)

    def cli(*args):
        return subprocess.run([redis_cli, "-p", str(rport), *args], capture_output=True,
                              text=True).stdout

    # Wait for redis to answer (a loaded CI machine starts it slowly).
    deadline = time.monotonic() + 30
    while cli("PING").strip() != "PONG":
        check(redis.poll() is None, "redis-server exited at start")
        check(time.monotonic() < deadline, "redis-server did not answer PING in 30 s")
        time.sleep(0.05)
    server = Server(tmp, "--latency-ms", "20", "--error-rate", "0.02")
    procs = {}
    logs = {}

    def start(name, *argv):
        # stderr to a file: a pipe nobody reads would block a chatty process.
        logs[name] = open(os.path.join(tmp, name + ".err"), "w+")
        procs[name] = subprocess.Popen([ARGS.fetcher, "--redis", f"127.0.0.1:{rport}",
                                        "--redis-job", "e2e", *argv], stderr=logs[name],
                                       text=True)

    def log_of(name):
        logs[name].flush()
        logs[name].seek(0)
        return logs[name].read()[-2000:]

    def start_worker(name):
        start(name, "--url", server.url, "--consumer", name, "--workers", "10", "--timeout",
              "500", "--retries", "4", "--backoff", "5")

    def held_by(name):
        # Entries come as id, consumer, idle, deliveries; an error reply (no
        # group yet) is text that names no consumer.
        job = cli("GET", "{e2e}:current").strip()
        words = cli("XPENDING", "{e2e}:" + job + ":items", "workers", "-", "+", "10000",
                    name).split()
        return sum(1 for i in range(1, len(words), 4) if words[i] == name)

    try:
        out_path = os.path.join(tmp, "out.jsonl")
        start("submit", "--redis-role", "submit", "--input", inp, "--output", out_path)
        # w1 first, alone; frozen (SIGSTOP) as soon as it holds cars, so it
        # dies holding them whatever the machine's speed: a stopped process
        # acknowledges nothing. Then the two others, then the SIGKILL.
        start_worker("w1")
        deadline = time.monotonic() + 60
        held_by_w1 = 0
        while held_by_w1 == 0:
            if procs["w1"].poll() is not None or time.monotonic() > deadline:
                sys.stderr.write(log_of("w1") + log_of("submit"))
                fail("the first fetcher never took a car")
            procs["w1"].send_signal(signal.SIGSTOP)
            held_by_w1 = held_by("w1")
            if held_by_w1 == 0:
                procs["w1"].send_signal(signal.SIGCONT)
                time.sleep(0.02)
        start_worker("w2")
        start_worker("w3")
        time.sleep(0.2)
        procs["w1"].send_signal(signal.SIGKILL)
        procs["w1"].wait(timeout=10)
        # The status view, through a redis:// URL.
        st = subprocess.run([ARGS.fetcher, "--redis", f"redis://127.0.0.1:{rport}",
                             "--redis-job", "e2e", "--redis-role", "status"],
                            capture_output=True, text=True, timeout=60)
        print(st.stdout.strip())
        check(st.returncode == 0 and st.stdout.startswith("job 1 of e2e: running, ")
              and "  w1: " in st.stdout, f"status: {st.returncode} {st.stdout!r} {st.stderr!r}")
        check(held_by_w1 > 0, "the killed fetcher held no car: the test proves nothing")
        try:
            procs["submit"].wait(timeout=120)
        except subprocess.TimeoutExpired:
            sys.stderr.write(log_of("submit") + log_of("w2") + log_of("w3"))
            fail("the distributed job did not finish")
        sys.stderr.write(log_of("submit"))
        check(procs["submit"].returncode == 0,
              f"submitter exit status {procs['submit'].returncode}")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(all(r["status"] == "ok" for r in out), "a row was not priced")
        print(f"the killed fetcher held {held_by_w1} cars; all were priced by the others")
        for name in ("w2", "w3"):
            procs[name].wait(timeout=60)
            if procs[name].returncode != 0:
                sys.stderr.write(log_of(name))
            check(procs[name].returncode == 0, f"{name} failed: {procs[name].returncode}")
        # A second job under the same name (the first is done). A worker
        # with a wrong --url (nothing listens there) starts first: it
        # releases the cars it cannot price instead of writing them failed
        # (it once wrote 2,000 of 3,000 failed). A good worker gets SIGTERM
        # while it holds cars: it finishes or releases them and exits 130.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        out_path = os.path.join(tmp, "out2.jsonl")
        start("submit2", "--redis-role", "submit", "--input", inp, "--output", out_path)
        start("bad", "--url", f"http://127.0.0.1:{closed_port}/v1/price", "--consumer", "bad",
              "--workers", "10", "--timeout", "500", "--retries", "0")
        deadline = time.monotonic() + 60
        while held_by("bad") == 0:
            if procs["bad"].poll() is not None or time.monotonic() > deadline:
                sys.stderr.write(log_of("bad") + log_of("submit2"))
                fail("the worker with a wrong --url never took a car")
            time.sleep(0.02)
        start_worker("w4")
        start_worker("w5")
        deadline = time.monotonic() + 60
        while held_by("w5") == 0:
            if procs["w5"].poll() is not None or time.monotonic() > deadline:
                sys.stderr.write(log_of("w5"))
                fail("w5 never took a car")
            time.sleep(0.02)
        procs["w5"].send_signal(signal.SIGTERM)
        try:
            procs["w5"].wait(timeout=60)
            procs["submit2"].wait(timeout=120)
        except subprocess.TimeoutExpired:
            sys.stderr.write(log_of("submit2") + log_of("w4") + log_of("w5") + log_of("bad"))
            fail("the second distributed job did not finish")
        sys.stderr.write(log_of("w5") + log_of("bad"))
        check(procs["w5"].returncode == 130, f"w5 after SIGTERM: exit {procs['w5'].returncode}")
        check(procs["submit2"].returncode == 0,
              f"second submitter exit status {procs['submit2'].returncode}")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(all(r["status"] == "ok" for r in out),
              "a row was not priced: " + str([r for r in out if r["status"] != "ok"][:3]))
        print("a worker with a wrong --url released its cars; a worker stopped by SIGTERM "
              "exited 130; every row priced")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        for f in logs.values():
            f.close()
        server.stop()
        redis.terminate()
        redis.wait(timeout=10)


def start_redis(tmp):
    """A redis-server on a free loopback port: (process, port, cli)."""
    import shutil
    import socket
    redis_server = shutil.which("redis-server")
    redis_cli = shutil.which("redis-cli")
    check(redis_server is not None and redis_cli is not None,
          "redis-server is not installed (scripts/setup.sh)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        rport = s.getsockname()[1]
    redis = subprocess.Popen([redis_server, "--port", str(rport), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", tmp],
                             stdout=subprocess.DEVNULL)

    def cli(*args):
        return subprocess.run([redis_cli, "-p", str(rport), "--raw", *args], capture_output=True,
                              text=True, timeout=30).stdout.strip()

    deadline = time.monotonic() + 30
    while cli("PING") != "PONG":
        check(redis.poll() is None, "redis-server exited at start")
        check(time.monotonic() < deadline, "redis-server did not answer PING in 30 s")
        time.sleep(0.05)
    return redis, rport, cli


def check_cars_match(input_path, out):
    """Each output row carries its own input row's car (not another's)."""
    with open(input_path, newline="") as f:
        rows = list(csv.DictReader(f))
    by_line = {i + 2: r for i, r in enumerate(rows)}
    for r in out:
        want = by_line[int(r["line"])]
        got = (r["make"], r["model"], int(r["year"]), int(r["mileage"]))
        check(got == (want["make"], want["model"], int(want["year"]), int(want["mileage"])),
              f"line {r['line']} carries another car: {got}")


def case_redis_attach(tmp):
    # A submitter killed (SIGKILL) mid-job; submit run again refuses to touch
    # the live job; a submitter re-attached with --attach collects every
    # result, the ones written before it started and the rest: one row per
    # input row, each with its own car and the right price. --job-id with
    # another input, or a job that does not exist, is refused.
    import signal
    redis, rport, cli = start_redis(tmp)
    server = Server(tmp, "--latency-ms", "20")
    inp = small_input(tmp, 1500)
    procs = []

    def fetcher(*argv, err=None):
        p = subprocess.Popen([ARGS.fetcher, "--redis", f"127.0.0.1:{rport}", "--redis-job", "att",
                              "--progress", "none", *argv], stderr=err or subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, text=True)
        procs.append(p)
        return p

    def meta(field):
        return cli("HGET", "{att}:1:meta", field)

    try:
        first = fetcher("--redis-role", "submit", "--input", inp, "--output",
                        os.path.join(tmp, "first.jsonl"))
        wait_for(lambda: meta("state") == "running", "the job runs")
        # Few requests at a time: 1,500 cars take seconds, time to kill.
        worker = fetcher("--url", server.url, "--workers", "4", "--consumer", "w1")
        wait_for(lambda: int(meta("done") or 0) >= 50, "the first results")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        done_at_kill = int(meta("done"))
        check(done_at_kill < 1500, "the job ended before the submitter was killed: proves nothing")
        # Submit again under the name: refused, and the job goes on untouched.
        r = subprocess.run([ARGS.fetcher, "--redis", f"127.0.0.1:{rport}", "--redis-job", "att",
                            "--redis-role", "submit", "--input", inp, "--output",
                            os.path.join(tmp, "again.jsonl"), "--progress", "none"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "JOBLIVE" in r.stderr and "--attach" in r.stderr,
              f"a second submit of a live job: {r.returncode} {r.stderr[-500:]!r}")
        check(cli("GET", "{att}:current") == "1" and meta("state") == "running"
              and cli("XLEN", "{att}:1:items") == "1500", "the second submit touched the live job")
        # Another input, or a job that does not exist: refused, rows cancelled.
        for argv, what in ((["--job-id", "1", "--input", small_input(tmp, 10)], "another input"),
                           (["--job-id", "7", "--input", inp], "does not exist")):
            r = subprocess.run([ARGS.fetcher, "--redis", f"127.0.0.1:{rport}", "--redis-job",
                                "att", "--redis-role", "submit", *argv, "--output",
                                os.path.join(tmp, "wrong.jsonl"), "--progress", "none"],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 1 and what in r.stderr,
                  f"--attach to the wrong job ({what}): {r.returncode} {r.stderr[-500:]!r}")
            check(all(x["status"] == "cancelled" for x in read_output(os.path.join(tmp, "wrong.jsonl"))),
                  "rows of a refused attach were not written cancelled")
        out_path = os.path.join(tmp, "attached.jsonl")
        err = open(os.path.join(tmp, "attach.err"), "w+")
        attached = fetcher("--redis-role", "submit", "--attach", "--input", inp, "--output",
                           out_path, err=err)
        try:
            attached.wait(timeout=180)
        except subprocess.TimeoutExpired:
            fail("the re-attached submitter did not finish")
        err.seek(0)
        log = err.read()
        sys.stderr.write(log[-2000:])
        check(attached.returncode == 0, f"the re-attached submitter: exit {attached.returncode}")
        check("attached to job 1 of att" in log, "the re-attached submitter did not say so")
        out = read_output(out_path)
        check(len(out) == 1500, f"{len(out)} rows, expected 1500")
        check_every_row_once(inp, out)
        check_cars_match(inp, out)
        check(all(x["status"] == "ok" for x in out), "a row was not priced")
        worker.wait(timeout=60)
        check(worker.returncode == 0, f"the worker: exit {worker.returncode}")
        print(f"the submitter was killed at {done_at_kill}/1500 results; a second submit was "
              f"refused; the re-attached one wrote 1500 rows, all priced")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        server.stop()
        redis.terminate()
        redis.wait(timeout=10)


def wait_for(cond, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not cond():
        check(time.monotonic() < deadline, f"{what}: not within {timeout} s")
        time.sleep(0.05)


def start_fetcher(url, input_path, output_path, *options):
    """The fetcher as a background process; stderr to a file beside the output."""
    err = open(output_path + ".stderr", "w+")
    cmd = [ARGS.fetcher, "--url", url, "--input", input_path, "--output", output_path,
           "--progress", "lines", *options]
    return subprocess.Popen(cmd, stderr=err, text=True), err


def stderr_of(err):
    err.flush()
    err.seek(0)
    return err.read()


def case_write_failure(tmp):
    # A full disk (/dev/full): a clear error, exit status 4, and no summary
    # claiming rows that are not in the output; both when the last flush
    # fails and when a write fails mid-run.
    server = Server(tmp)
    try:
        for n in (50, 3000):
            inp = small_input(tmp, n)
            code, err, _ = run_fetcher(server.url, inp, "/dev/full", "--format", "csv")
            check(code == 4, f"{n} rows to /dev/full: exit status {code}, expected 4")
            check("No space left on device" in err and "/dev/full" in err,
                  f"{n} rows to /dev/full: the error does not say what failed")
            check(" priced," not in err, f"{n} rows to /dev/full: the summary claims priced rows")
    finally:
        server.stop()


def case_keep_output(tmp):
    # An existing output survives a bad header and a run killed mid-way; a
    # finished run replaces it, leaving no temporary file.
    out_path = os.path.join(tmp, "out.csv")
    precious = "line,status\n1,precious\n"

    def write_precious():
        with open(out_path, "w") as f:
            f.write(precious)

    def output_text():
        with open(out_path) as f:
            return f.read()

    bad = os.path.join(tmp, "bad_header.csv")
    with open(bad, "w") as f:
        f.write("brand,type,year,km\nToyota,Corolla,2018,60000\n")
    write_precious()
    code, err, _ = run_fetcher("http://127.0.0.1:9/v1/price", bad, out_path)
    check(code == 2 and "header" in err, f"bad header: exit status {code}")
    check(output_text() == precious, "a bad header changed the existing output")

    inp = small_input(tmp, 400)
    server = Server(tmp, "--latency-ms", "100")
    try:
        write_precious()
        proc, err = start_fetcher(server.url, inp, out_path, "--workers", "2")
        wait_for(lambda: server.stats()["requests"] >= 4 or proc.poll() is not None,
                 "the fetcher sent no request")
        check(proc.poll() is None, "the fetcher ended before it was killed")
        proc.kill()
        proc.wait(timeout=30)
        err.close()
        check(output_text() == precious, "a killed run left the existing output changed")
        code, _, _ = run_fetcher(server.url, small_input(tmp, 20), out_path)
        check(code == 0, f"exit status {code}")
        out = read_output(out_path)
        check_every_row_once(small_input(tmp, 20), out)
        left = [f for f in os.listdir(tmp) if f.startswith(".out.csv")]
        check(len(left) <= 1, f"temporary files left beside the output: {left}")
    finally:
        server.stop()


def case_ordered(tmp):
    # --ordered: every output row in input order, whatever its status
    # (invalid rows, and rows never sent after an interrupt, included).
    inp = os.path.join(tmp, "mixed.csv")
    with open(ARGS.cars) as src:
        lines = src.read().splitlines()
    with open(inp, "w") as f:
        f.write(lines[0] + "\n")
        for i, line in enumerate(lines[1:601]):
            f.write(line + "\n")
            if i % 37 == 5:
                f.write("Honda,Civic,twenty,1000\n")
    server = Server(tmp, "--latency-ms", "5", "--jitter-ms", "5")
    try:
        out_path = os.path.join(tmp, "out.csv")
        code, _, _ = run_fetcher(server.url, inp, out_path, "--ordered")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        order = [int(r["line"]) for r in out]
        check(order == sorted(order), f"--ordered output not in input order: "
              f"{[(a, b) for a, b in zip(order, order[1:]) if a > b][:5]}")
        check(code == 1, f"exit status {code} with invalid rows")
    finally:
        server.stop()
    server = Server(tmp, "--latency-ms", "50", "--jitter-ms", "40")
    try:
        import signal
        out_path = os.path.join(tmp, "interrupted.csv")
        proc, err = start_fetcher(server.url, inp, out_path, "--ordered", "--workers", "4")
        wait_for(lambda: server.stats()["requests"] >= 20 or proc.poll() is not None,
                 "the fetcher sent no request")
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        err.close()
        check(code == 130, f"interrupted: exit status {code}")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        order = [int(r["line"]) for r in out]
        check(order == sorted(order), f"interrupted --ordered output not in input order: "
              f"{[(a, b) for a, b in zip(order, order[1:]) if a > b][:5]}")
        check(any(r["status"] == "cancelled" for r in out), "nothing was cancelled")
    finally:
        server.stop()


def case_non_utf8(tmp):
    # A Windows-1252 row: invalid, with a reason naming UTF-8, never sent;
    # every output line valid UTF-8 (and valid JSON in JSON Lines).
    inp = os.path.join(tmp, "cp1252.csv")
    with open(inp, "wb") as f:
        f.write(b"make,model,year,mileage\n"
                b"Toyota,Corolla,2018,60000\n"
                b"Citro\xebn,C3,2019,20000\n"
                b"Renault,Clio \xa0 \xff,2017,30000\n"
                b"Peugeot,208,2020,10000\n")
    server = Server(tmp)
    try:
        for name in ("out.jsonl", "out.csv"):
            out_path = os.path.join(tmp, name)
            code, err, _ = run_fetcher(server.url, inp, out_path)
            with open(out_path, "rb") as f:
                raw = f.read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                fail(f"{name} is not valid UTF-8: {e}")
            if name.endswith(".jsonl"):
                for line in text.splitlines():
                    json.loads(line)
            out = read_output(out_path)
            by_line = {int(r["line"]): r for r in out}
            check(sorted(by_line) == [2, 3, 4, 5], f"{name}: lines {sorted(by_line)}")
            for good in (2, 5):
                check(by_line[good]["status"] == "ok", f"{name}: line {good}: {by_line[good]}")
            for bad in (3, 4):
                check(by_line[bad]["status"] == "invalid" and "UTF-8" in by_line[bad]["error"],
                      f"{name}: line {bad}: {by_line[bad]}")
            check(code == 1, f"{name}: exit status {code}")
        check(server.stats()["requests"] == 4, "a non-UTF-8 row was sent (2 runs, 2 good rows each)")
    finally:
        server.stop()


def case_bom(tmp):
    # A spreadsheet's "CSV UTF-8" export starts with a byte-order mark.
    inp = os.path.join(tmp, "bom.csv")
    with open(ARGS.cars, encoding="utf-8") as src:
        lines = src.read().splitlines()[:21]
    with open(inp, "w", encoding="utf-8-sig", newline="\r\n") as f:
        f.write("\n".join(lines) + "\n")
    server = Server(tmp)
    try:
        out_path = os.path.join(tmp, "out.jsonl")
        code, err, _ = run_fetcher(server.url, inp, out_path)
        check(code == 0, f"a file with a byte-order mark: exit status {code}")
        out = read_output(out_path)
        check(len(out) == 20 and all(r["status"] == "ok" for r in out), "rows not priced")
    finally:
        server.stop()


def case_multiline(tmp):
    # RFC 4180: a quoted field may hold line breaks; the row keeps the line
    # number it starts on, and the rows after it keep theirs. A quote that
    # never closes is still one invalid row.
    inp = os.path.join(tmp, "multiline.csv")
    with open(inp, "w", newline="") as f:
        f.write('make,model,year,mileage,note\r\n'
                'Toyota,Corolla,2018,60000,"two\r\nlines"\r\n'
                'Ford,"F-150\nXL",2020,30000,plain\n'
                'Kia,"Soul,2017,5000,never closed\n'
                'Mazda,CX-5,2019,1000,"three\n\nlines"\n'
                'Honda,Civic,2016,90000,end\n')
    server = Server(tmp)
    try:
        for name in ("out.csv", "out.jsonl"):
            out_path = os.path.join(tmp, name)
            code, err, _ = run_fetcher(server.url, inp, out_path)
            out = read_output(out_path)
            by_line = {int(r["line"]): r for r in out}
            check(sorted(by_line) == [2, 4, 6, 7, 10], f"{name}: lines {sorted(by_line)}")
            for good in (2, 4, 7, 10):
                r = by_line[good]
                check(r["status"] == "ok", f"{name}: line {good}: {r}")
                check(abs(float(r["price"]) - model_price(r["make"], r["model"], int(r["year"]),
                                                          int(r["mileage"]))) < 0.011,
                      f"{name}: wrong price on line {good}")
            check(by_line[4]["model"] == "F-150\nXL", f"{name}: {by_line[4]['model']!r}")
            check(by_line[6]["status"] == "invalid" and "unterminated" in by_line[6]["error"],
                  f"{name}: line 6: {by_line[6]}")
            check(code == 1, f"{name}: exit status {code}")
    finally:
        server.stop()


def case_input_errors(tmp):
    # Blank lines are not rows: the progress reaches 100%. A directory or an
    # empty file says what is wrong. Skipped-row messages in a log (not a
    # terminal) start no blank line.
    inp = os.path.join(tmp, "blanks.csv")
    with open(ARGS.cars) as src:
        lines = src.read().splitlines()[:31]
    text = lines[0] + "\n\n"
    for i, line in enumerate(lines[1:]):
        text += line + "\n" + ("\n\n" if i % 5 == 0 else "")
        if i == 7:
            text += "Honda,Civic,twenty,1000\n"
            bad_line = text.count("\n")
    with open(inp, "w") as f:
        f.write(text)
    server = Server(tmp)
    try:
        out_path = os.path.join(tmp, "out.csv")
        code, err, _ = run_fetcher(server.url, inp, out_path)
        check(code == 1, f"exit status {code}")
        progress = [l for l in err.splitlines() if l.startswith("progress:")]
        check(progress and progress[-1].startswith("progress: 31/31 done"),
              f"the progress did not reach 31/31: {progress[-1:]}")
        check("\n\n" not in err and not err.startswith("\n"), f"a blank line on stderr: {err!r}")
        check(f"line {bad_line} skipped" in err, "the invalid row was not reported")
    finally:
        server.stop()
    empty = os.path.join(tmp, "empty.csv")
    open(empty, "w").close()
    for path, words in ((tmp, "is a directory"), (empty, "is empty")):
        code, err, _ = run_fetcher("http://127.0.0.1:9/v1/price", path, out_path)
        check(code == 2 and words in err, f"input {path}: exit status {code}, {err!r}")
        check("line 0" not in err, f"input {path}: {err!r}")


def case_slow_stdin(tmp):
    # A pipe that stalls: the rows already read are priced meanwhile (the
    # input is read without blocking the event loop).
    with open(ARGS.cars) as src:
        lines = src.read().splitlines()[:61]
    server = Server(tmp)
    try:
        out_path = os.path.join(tmp, "out.csv")
        err = open(os.path.join(tmp, "stderr"), "w+")
        read_end, write_end = os.pipe()
        proc = subprocess.Popen([ARGS.fetcher, "--url", server.url, "--input", "-", "--output",
                                 out_path, "--progress", "lines"], stdin=read_end,
                                stderr=err, text=True)
        proc.stdin = os.fdopen(write_end, "w")
        try:
            proc.stdin.write("\n".join(lines[:21]) + "\n")
            proc.stdin.flush()
            # stdin stays open: the 20 rows must be priced without more input.
            deadline = time.monotonic() + 30
            while server.stats()["requests"] < 20:
                check(proc.poll() is None, "the fetcher ended early")
                check(time.monotonic() < deadline,
                      f"rows read were not priced while stdin stalled: "
                      f"{server.stats()['requests']} requests")
                time.sleep(0.05)
            proc.stdin.write("\n".join(lines[21:]) + "\n")
            proc.stdin.close()
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        check(code == 0, f"exit status {code}")
        out = read_output(out_path)
        check(len(out) == 60 and all(r["status"] == "ok" for r in out), "rows not priced")
        check(sorted(int(r["line"]) for r in out) == list(range(2, 62)), "wrong line numbers")
        # The pipe's open file is shared with us: the fetcher leaves it blocking.
        import fcntl
        check(not fcntl.fcntl(read_end, fcntl.F_GETFL) & os.O_NONBLOCK,
              "the fetcher left its stdin non-blocking")
    finally:
        server.stop()


def case_bad_url(tmp):
    # A URL that cannot work is a usage error up front, not failed rows.
    inp = small_input(tmp, 5)
    out_path = os.path.join(tmp, "out.csv")
    for url, words in (("http://127.0.0.1:99999/v1/price", "port"),
                       ("http://127.0.0.1:8O80/v1/price", "port"),
                       ("http://127.0.0.1:/v1/price", "port"),
                       ("http:///v1/price", "host"),
                       ("http://exa mple.com/v1/price", "host"),
                       ("ftp://127.0.0.1/v1/price", "http")):
        code, err, _ = run_fetcher(url, inp, out_path, "--retries", "0")
        check(code == 2 and words in err, f"--url {url}: exit status {code}, {err[-300:]!r}")
        check(not os.path.exists(out_path), f"--url {url}: an output was written")


def case_parser_errors(tmp):
    # The HTTP parser's errors reach the user as sentences.
    inp = small_input(tmp, 20)
    for fault, words in (("--garbage-rate", "the server's answer is not HTTP"),
                         ("--truncate-rate", "the connection closed before the answer was complete")):
        server = Server(tmp, fault, "1")
        try:
            out_path = os.path.join(tmp, "out.jsonl")
            code, _, _ = run_fetcher(server.url, inp, out_path, "--retries", "0")
            out = read_output(out_path)
            check_every_row_once(inp, out)
            check(code == 1, f"{fault}: exit status {code}")
            errors = {r["error"] for r in out}
            check(all(words in e for e in errors), f"{fault}: errors {errors}")
        finally:
            server.stop()


def case_pushback_limit(tmp):
    # A server that always answers 429 with Retry-After: 3600. The cap on
    # Retry-After (--max-retry-after) and the push-back limit (--max-paused)
    # stop the job early (exit status 3) with the reason; every row is in
    # the output once.
    inp = small_input(tmp, 200)
    server = Server(tmp, "--rate-429", "1", "--retry-after", "3600")
    try:
        out_path = os.path.join(tmp, "out.csv")
        code, err, _ = run_fetcher(server.url, inp, out_path, "--max-retry-after", "1",
                                   "--max-paused", "3", timeout=120)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 3, f"exit status {code}, expected 3")
        check("the server kept pushing back" in err, "the summary does not name the push-back")
        check(all(r["status"] != "ok" for r in out), "a row was priced by a server answering 429")
        no_reason = [r for r in out if "pushing back" not in r["error"] and "429" not in r["error"]]
        check(not no_reason, f"rows without the reason: {no_reason[:2]}")
    finally:
        server.stop()


def max_rss_kib(cmd):
    """Runs cmd; its exit status and peak resident memory in KiB."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, usage.ru_maxrss


def case_many_workers(tmp):
    # --workers 100000 for 50 rows: memory follows the work, not the option.
    inp = small_input(tmp, 50)
    server = Server(tmp)
    try:
        out_path = os.path.join(tmp, "out.csv")
        rss = {}
        for workers in (50, 100000):
            code, rss[workers] = max_rss_kib([ARGS.fetcher, "--url", server.url, "--input", inp,
                                              "--output", out_path, "--progress", "none",
                                              "--workers", str(workers)])
            check(code == 0, f"--workers {workers}: exit status {code}")
            check_every_row_once(inp, read_output(out_path))
        print(f"peak memory for 50 rows: {rss[50]} KiB with 50 workers, "
              f"{rss[100000]} KiB with 100000")
        check(rss[100000] < rss[50] * 1.5 + 16 * 1024,
              f"100000 workers took {rss[100000]} KiB against {rss[50]} KiB for 50")
    finally:
        server.stop()


def case_dead_server(tmp):
    # Nothing listens on the port: the circuit breaker opens, its probes
    # fail, and after --unavailable-after (default 10 s) the job stops early
    # with one clear line naming the cause, every row reported with it
    # (unavailable, or failed for the rows tried before the breaker opened),
    # and fewer connection attempts than rows (each row was tried 4 times
    # before the breaker).
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inp = small_input(tmp, 3000)
    out_path = os.path.join(tmp, "out.csv")
    code, err, _ = run_fetcher(f"http://127.0.0.1:{port}/v1/price", inp, out_path, timeout=120)
    out = read_output(out_path)
    check_every_row_once(inp, out)
    check(code == 3, f"exit status {code}, expected 3")
    reason = (f"stopped: the server 127.0.0.1:{port} is unavailable (the circuit breaker stayed "
              "open 10 s; last error: Connection refused)")
    check(reason in err, f"no line naming the cause: {err[-500:]!r}")
    check(all(r["status"] in ("failed", "unavailable") and "refused" in r["error"] for r in out),
          f"rows without the cause: {[r for r in out if 'refused' not in r['error']][:2]}")
    unavailable = sum(r["status"] == "unavailable" for r in out)
    check(unavailable > 2000, f"only {unavailable} of 3000 rows reported unavailable")
    import re
    attempts = int(re.search(r"(\d+) connections", err).group(1))
    check(attempts < 3000, f"{attempts} connection attempts for 3000 rows")


def case_failing_server(tmp):
    # A server that answers 500 to everything: the circuit breaker stops
    # the requests after a few; --unavailable-after 2 ends the job (exit
    # status 3) with the reason; every row is in the output once, none
    # priced, and the server saw far fewer requests than rows x attempts.
    inp = small_input(tmp, 2000)
    server = Server(tmp, "--error-rate", "1")
    try:
        out_path = os.path.join(tmp, "out.jsonl")
        code, err, _ = run_fetcher(server.url, inp, out_path, "--unavailable-after", "2",
                                   "--breaker-open", "200", timeout=120)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 3, f"exit status {code}, expected 3")
        check(" is unavailable (the circuit breaker stayed open 2 s; last error: " in err,
              f"no line naming the cause: {err[-500:]!r}")
        check(all(r["status"] in ("failed", "unavailable") for r in out), "a row was priced")
        unavailable = [r for r in out if r["status"] == "unavailable"]
        check(len(unavailable) > 1000, f"only {len(unavailable)} rows reported unavailable")
        check(all("500" in r["error"] for r in unavailable),
              f"unavailable rows without the last error: {unavailable[:2]}")
        requests = server.stats()["requests"]
        check(requests < 1000, f"{requests} requests for 2000 rows against a failing server")
    finally:
        server.stop()


def case_per_host(tmp):
    # Two --url on two hosts (two servers), one slow: the rows alternate
    # between them (line mod 2), and by default (--per-host: half of
    # --workers with two hosts or more) at most 4 of the 8 workers wait on
    # one host, so the slow host never holds every worker. The same run
    # with --per-host 0 shows the check can fail: the slow host then holds
    # all 8. --per-host-rate bounds each host's requests a second;
    # --per-host with --ordered is a usage error; a dead host's rows go to
    # the live one.
    inp = small_input(tmp, 200)
    rows = read_rows(inp)
    for name in ("slow", "fast"):  # each server writes its port file in its own folder
        os.makedirs(os.path.join(tmp, name))
    slow = Server(os.path.join(tmp, "slow"), "--latency-ms", "150")
    fast = Server(os.path.join(tmp, "fast"))
    try:
        def run(*options):
            before = {u: srv.stats() for u, srv in (("slow", slow), ("fast", fast))}
            out_path = os.path.join(tmp, "out.csv")
            code, err, _ = run_fetcher(slow.url, inp, out_path, "--url", fast.url,
                                       "--workers", "8", *options)
            check(code == 0, f"exit status {code} with {options}: {err[-500:]!r}")
            out = read_output(out_path)
            check_every_row_once(inp, out)
            check(all(r["status"] == "ok" for r in out), "a row was not priced")
            return {u: srv.stats()["requests"] - before[u]["requests"]
                    for u, srv in (("slow", slow), ("fast", fast))}, \
                {u: srv.stats()["max_open_connections"] for u, srv in (("slow", slow), ("fast", fast))}

        # The row on line L goes to URL number L mod 2: odd lines to the fast server.
        expect_slow = sum(1 for line in rows if line % 2 == 0)
        requests, max_open = run()
        check(requests == {"slow": expect_slow, "fast": len(rows) - expect_slow},
              f"rows not spread by line: {requests}, expected {expect_slow} on the slow host")
        check(max_open["slow"] <= 4, f"the slow host had {max_open['slow']} connections open, "
              "above the default per-host cap of 4")
        # Without the cap the slow host takes every worker (the same
        # servers: their max_open only grows).
        _, max_open = run("--per-host", "0")
        check(max_open["slow"] > 4, f"without --per-host the slow host had only {max_open['slow']} "
              "connections open: the check above could not fail")
    finally:
        slow.stop()
        fast.stop()

    # --per-host-rate 20 against one host: no second holds more requests
    # than the rate, plus the burst (8 workers / 10: 1) and one start per
    # worker that was already past the gate.
    server = Server(tmp)
    try:
        out_path = os.path.join(tmp, "rate.csv")
        code, err, elapsed = run_fetcher(server.url, small_input(tmp, 60), out_path,
                                         "--workers", "8", "--per-host-rate", "20")
        check(code == 0, f"exit status {code}: {err[-500:]!r}")
        times = sorted(t for t, what in server.stats()["timeline"] if what == "req")
        check(len(times) == 60, f"{len(times)} requests for 60 rows")
        busiest = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
        check(busiest <= 20 + 1 + 8, f"{busiest} requests in one second at --per-host-rate 20")
        check(elapsed >= (60 - 1) / 20 * 0.9, f"60 rows at 20/s took only {elapsed:.2f} s")
    finally:
        server.stop()

    code, err, _ = run_fetcher("http://127.0.0.1:9/v1/price", inp, os.path.join(tmp, "o.csv"),
                               "--per-host", "3", "--ordered")
    check(code == 2 and "do not go with --ordered" in err, f"--per-host --ordered: {code} {err!r}")

    # A dead host among two (nothing listens on its port): the rows of its
    # lines fail to connect, are retried, and go to the other host while
    # the dead one is down; every row is priced, and the circuit breaker
    # (job-wide) does not stop the job for one dead host.
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    inp = small_input(tmp, 1000)
    server = Server(tmp)
    try:
        out_path = os.path.join(tmp, "failover.csv")
        code, err, _ = run_fetcher(f"http://127.0.0.1:{dead}/v1/price", inp, out_path,
                                   "--url", server.url)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 0, f"exit status {code} with a dead host among two: {err[-500:]!r}")
        check(all(r["status"] == "ok" for r in out), "a row was not priced")
        check(server.stats()["ok"] == 1000, f"the live host priced {server.stats()['ok']} rows")
    finally:
        server.stop()


def case_retry_budget(tmp):
    # A server that answers 500 to everything, the breaker off: without the
    # retry budget each of the 500 rows would be sent 4 times (2000
    # requests); the default budget (0.2 of first requests + 10 a second
    # over 10 s) keeps the retries to about 200. Every row is in the output
    # once, failed with the server's error, exit status 1.
    import re
    inp = small_input(tmp, 500)
    server = Server(tmp, "--error-rate", "1")
    try:
        out_path = os.path.join(tmp, "out.csv")
        code, err, _ = run_fetcher(server.url, inp, out_path, "--breaker", "0", "--backoff", "1",
                                   timeout=120)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 1, f"exit status {code}, expected 1")
        check(all(r["status"] == "failed" and "HTTP 500" in r["error"] for r in out),
              "a row without the server's error")
        m = re.search(r"(\d+) retries \((\d+) refused by the retry budget\)", err)
        check(m, f"no retry counts in the summary: {err[-500:]!r}")
        retried, refused = int(m.group(1)), int(m.group(2))
        requests = server.stats()["requests"]
        check(requests == 500 + retried, f"{requests} requests, {retried} retries")
        check(retried <= 0.2 * 500 + 10 * 10 + 10, f"{retried} retries over the budget")
        check(refused > 0, "the budget refused nothing")
    finally:
        server.stop()


def case_stdin_interrupt(tmp):
    # Interrupted while stdin stalls: the rows read are reported, and a
    # second interrupt stops reading (the summary says from which line).
    import signal
    with open(ARGS.cars) as src:
        lines = src.read().splitlines()[:21]
    server = Server(tmp, "--latency-ms", "2")
    try:
        out_path = os.path.join(tmp, "out.csv")
        err = open(os.path.join(tmp, "stderr"), "w+")
        proc = subprocess.Popen([ARGS.fetcher, "--url", server.url, "--input", "-", "--output",
                                 out_path, "--progress", "lines"], stdin=subprocess.PIPE,
                                stderr=err, text=True)
        try:
            proc.stdin.write("\n".join(lines) + "\n")
            proc.stdin.flush()
            wait_for(lambda: server.stats()["requests"] >= 20 or proc.poll() is not None,
                     "the rows read were not priced")
            proc.send_signal(signal.SIGINT)
            wait_for(lambda: "interrupt again" in stderr_of(err) or proc.poll() is not None,
                     "no word after the first interrupt")
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdin.close()
        text = stderr_of(err)
        check(code == 130, f"exit status {code}")
        check("not read past line 21" in text, f"the summary does not say where reading stopped")
        out = read_output(out_path)
        check(sorted(int(r["line"]) for r in out) == list(range(2, 22)), "rows read are missing")
    finally:
        server.stop()


def read_metrics(path):
    """An OpenMetrics text file: its samples (name with labels -> value); the
    text must be whole (HELP and TYPE lines, "# EOF" last)."""
    with open(path) as f:
        text = f.read()
    check(text.endswith("# EOF\n"), f"{path} does not end with # EOF: {text[-200:]!r}")
    check("# TYPE jobrunner_results counter" in text and "# HELP jobrunner_results " in text,
          f"{path} has no TYPE/HELP for jobrunner_results")
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples


def result_total(samples, status):
    return samples[f'jobrunner_results_total{{job="car_price_fetcher",status="{status}"}}']


def case_drain(tmp):
    # A first SIGINT drains: no more cars are sent, the cars in flight are
    # priced (none is cancelled in flight), every row still has exactly one
    # line, exit 130. A second SIGINT cancels the cars in flight. Meanwhile
    # --metrics-file is rewritten atomically: whenever it is read it is whole.
    import signal
    inp = small_input(tmp, 600)
    metrics = os.path.join(tmp, "job.prom")
    server = Server(tmp, "--latency-ms", "300", "--jitter-ms", "50")
    try:
        out_path = os.path.join(tmp, "drained.csv")
        proc, err = start_fetcher(server.url, inp, out_path, "--workers", "8",
                                  "--metrics-file", metrics, "--metrics-interval", "0.05")
        reads = 0
        try:
            def progressed():
                nonlocal reads
                if os.path.exists(metrics):
                    reads += 1
                    return result_total(read_metrics(metrics), "succeeded") >= 16
                return proc.poll() is not None
            wait_for(progressed, "no metrics file showing 16 cars priced")
            proc.send_signal(signal.SIGINT)
            wait_for(lambda: "interrupt again" in stderr_of(err) or proc.poll() is not None,
                     "no word after the first interrupt")
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.close()
        check(code == 130, f"drained: exit status {code}")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        ok = [r for r in out if r["status"] == "ok"]
        cancelled = [r for r in out if r["status"] == "cancelled"]
        check(len(ok) >= 16, f"only {len(ok)} rows priced")
        check(cancelled and all("not sent" in r["error"] for r in cancelled),
              f"rows cancelled other than not sent: {[r for r in cancelled if 'not sent' not in r['error']][:2]}")
        check(len(ok) + len(cancelled) == len(out), "a row neither priced nor not sent")
        final = read_metrics(metrics)
        check(final['jobrunner_job_status{job="car_price_fetcher",jobrunner_job_status="drained"}'] == 1,
              "the final metrics do not say drained")
        check(result_total(final, "succeeded") == len(ok),
              f"metrics say {result_total(final, 'succeeded')} priced, the output {len(ok)}")
        check(reads >= 2, f"the metrics file was read only {reads} times")
        check(not [f for f in os.listdir(tmp) if ".prom.tmp" in f], "a temporary metrics file is left")
    finally:
        server.stop()
    server = Server(tmp, "--latency-ms", "5000")
    try:
        out_path = os.path.join(tmp, "cancelled.csv")
        proc, err = start_fetcher(server.url, inp, out_path, "--workers", "8")
        try:
            wait_for(lambda: server.stats()["requests"] >= 8 or proc.poll() is not None,
                     "the fetcher sent no request")
            proc.send_signal(signal.SIGINT)
            wait_for(lambda: "interrupt again" in stderr_of(err) or proc.poll() is not None,
                     "no word after the first interrupt")
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.close()
        check(code == 130, f"cancelled: exit status {code}")
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(not any(r["status"] == "ok" for r in out), "a row priced by a server answering in 5 s")
    finally:
        server.stop()


def case_no_redis(tmp):
    # A fetcher built without hiredis: --redis is a clear usage error, and
    # the single-machine job works.
    inp = small_input(tmp, 50)
    out_path = os.path.join(tmp, "out.csv")
    r = subprocess.run([ARGS.fetcher, "--redis", "127.0.0.1:6379", "--input", inp,
                        "--output", out_path], capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and "without Redis support" in r.stderr,
          f"--redis without hiredis: {r.returncode} {r.stderr[-500:]!r}")
    server = Server(tmp)
    try:
        code, _, _ = run_fetcher(server.url, inp, out_path)
        out = read_output(out_path)
        check_every_row_once(inp, out)
        check(code == 0 and all(x["status"] == "ok" for x in out), f"exit status {code}")
    finally:
        server.stop()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--fetcher", required=True)
    p.add_argument("--cars", required=True)
    p.add_argument("--case", required=True)
    ARGS = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        globals()["case_" + ARGS.case](tmp)
    print("PASS:", ARGS.case)


if __name__ == "__main__":
    main()
