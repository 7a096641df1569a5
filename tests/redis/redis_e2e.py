#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""Three runner processes share one job through a real redis-server; one is
killed with SIGKILL mid-job. Every item must still get exactly one result
(with the right value) and nothing may be left pending.

    redis_e2e.py --worker BIN --redis-server BIN --redis-cli BIN [--items N]
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_results(a, cli):
    # Every item exactly once in the result stream, with 2 x its value.
    items = cli("XRANGE", "test:items", "-", "+").split("\n")
    values = {}
    for i in range(0, len(items) - 2, 3):
        values[items[i]] = int(items[i + 2])  # id, "data", value
    if len(values) != a.items:
        fail(f"{len(values)} items in the stream, expected {a.items}")
    results = cli("XRANGE", "test:results", "-", "+").split("\n")
    seen = {}
    for i in range(0, len(results) - 6, 7):  # id, item, ID, status, S, result, R
        item, status, result = results[i + 2], results[i + 4], results[i + 6]
        if item in seen:
            fail(f"item {item} has two results")
        seen[item] = (status, result)
    if set(seen) != set(values):
        fail(f"{len(set(values) - set(seen))} items without a result")
    for item, (status, result) in seen.items():
        if status != "ok" or int(result) != 2 * values[item]:
            fail(f"item {item}: {status} {result}")
    pending = cli("XPENDING", "test:items", "test").splitlines()
    if not pending or pending[0] != "0":
        fail(f"items left pending: {pending[:1]}")


def wait_for_ping(cli, server):
    deadline = time.monotonic() + 30  # a loaded CI machine starts it slowly
    while cli("PING").strip() != "PONG":
        if server.poll() is not None or time.monotonic() > deadline:
            fail("redis-server did not start")
        time.sleep(0.05)


def refused_case(a, port):
    """No Redis at all (nothing listens on the port): the submitter and a
    runner stop at once with exit status 1 and say why. (A failed connect
    once made the connection free hiredis's context twice.)"""
    for argv in (["submit", "10"], ["work", "r1", "5", "1000"]):
        r = subprocess.run([a.worker, str(port), *argv], capture_output=True, text=True,
                           timeout=60)
        print(f"{argv[0]}: exit {r.returncode}: {r.stderr.strip()}")
        if r.returncode != 1 or "Connection refused" not in r.stderr:
            fail(f"{argv[0]} did not stop with a clear error")
        if "Sanitizer" in r.stderr:
            fail(f"{argv[0]}: a sanitizer report")
    print("PASS: without redis, the submitter and the runner said so and exited 1")


def oom_case(a, port, cli):
    """Redis refuses writes past a memory limit set just above what it uses:
    some XADDs fail. The submitter must stop with an error that says so and
    set no total (a total over a partial stream would make runners wait for
    items that do not exist, or call a partial job complete)."""
    used = int(next(line.split(":")[1] for line in cli("INFO", "memory").splitlines()
                    if line.startswith("used_memory:")))
    cli("CONFIG", "SET", "maxmemory", str(used + 300000))
    cli("CONFIG", "SET", "maxmemory-policy", "noeviction")
    r = subprocess.run([a.worker, str(port), "submit", "50000"], capture_output=True, text=True,
                       timeout=120)
    print(r.stderr.strip())
    if r.returncode == 0:
        fail("the submitter succeeded although redis refused items")
    if "items were not added" not in r.stderr or "OOM" not in r.stderr:
        fail("the submitter's error does not say items were refused, and why")
    added = int(cli("XLEN", "test:items").strip())
    if not 0 < added < 50000:
        fail(f"the memory limit did not refuse part of the items: {added} added")
    if cli("EXISTS", "test:total").strip() != "0":
        fail("a total was set over a partial stream")
    print(f"PASS: redis refused {50000 - added} of 50000 items; the submitter said so and "
          f"set no total")


def restart_case(a, port, cli, server, redis_cmd, submit):
    """Redis stops mid-job and comes back (its append-only file fsynced at
    every write): runners and submitter stop with a clear error; new runners
    then finish the job from what Redis kept."""
    runners = [subprocess.Popen([a.worker, str(port), "work", name, "5", "500"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("r1", "r2")]
    # Shut Redis down mid-job: as soon as the first results are in (a fixed
    # sleep could fall before the runners start, or after the job ends).
    deadline = time.monotonic() + 60
    while int(cli("GET", "test:done").strip() or 0) == 0:
        if time.monotonic() > deadline:
            fail("no result within 60 s")
        time.sleep(0.02)
    done_before = int(cli("GET", "test:done").strip() or 0)
    cli("SHUTDOWN", "NOSAVE")
    server.wait(timeout=30)
    for r in runners:
        try:
            _, err = r.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            fail("a runner hung when redis went away")
        if r.returncode == 0 or "redis" not in err:
            fail(f"a runner did not report the lost connection: {r.returncode} {err!r}")
        print("runner said:", err.strip().splitlines()[-1])
    try:
        submit.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        fail("the submitter hung when redis went away")
    if submit.returncode == 0:
        fail("the submitter did not report the lost connection")
    server = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
    wait_for_ping(cli, server)
    done_after = int(cli("GET", "test:done").strip() or 0)
    if done_after < done_before:
        fail(f"results acknowledged before the restart were lost: {done_before} -> {done_after}")
    print(f"results before the restart: {done_before}, kept: {done_after}")
    waiter = subprocess.Popen([a.worker, str(port), "wait"], stdout=subprocess.PIPE, text=True)
    again = [subprocess.Popen([a.worker, str(port), "work", name, "5", "500"],
                              stdout=subprocess.PIPE, text=True) for name in ("r3", "r4")]
    try:
        waiter.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        fail("the job did not finish after the restart: " + cli("GET", "test:done"))
    for r in again:
        r.wait(timeout=30)
        if r.returncode != 0:
            fail("a runner failed after the restart")
    return server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", required=True)
    ap.add_argument("--redis-server", required=True)
    ap.add_argument("--redis-cli", required=True)
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--case", default="kill", choices=["kill", "restart", "oom", "refused"])
    a = ap.parse_args()
    port = free_port()
    if a.case == "refused":
        refused_case(a, port)
        return
    tmp = tempfile.mkdtemp()
    durable = ["--appendonly", "yes", "--appendfsync", "always"] if a.case == "restart" else \
        ["--appendonly", "no"]
    redis_cmd = [a.redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--dir", tmp, *durable]
    server = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
    runners = []

    def cli(*args):
        return subprocess.run([a.redis_cli, "-p", str(port), "--raw", *args], capture_output=True,
                              text=True, timeout=30).stdout

    try:
        wait_for_ping(cli, server)
        if a.case == "oom":
            oom_case(a, port, cli)
            return
        submit = subprocess.Popen([a.worker, str(port), "submit", str(a.items)],
                                  stdout=subprocess.PIPE, text=True)
        # The job exists once its total is set (submit sets it last).
        deadline = time.monotonic() + 60
        while cli("EXISTS", "test:total").strip() != "1":
            if submit.poll() is not None or time.monotonic() > deadline:
                fail("the submitter did not set the job's total")
            time.sleep(0.02)
        if a.case == "restart":
            server = restart_case(a, port, cli, server, redis_cmd, submit)
            check_results(a, cli)
            print(f"PASS: redis restarted mid-job; the runners stopped with a clear error; "
                  f"new runners finished the job: {a.items} items, one result each")
            return
        # 20 workers a runner, 5 ms a task: about 4,000 items/s each; items
        # pending for 1 s are reclaimed.
        def start(name):
            runners.append(subprocess.Popen([a.worker, str(port), "work", name, "5", "1000"],
                                            stdout=subprocess.PIPE, text=True))

        def held_by(name):
            # id, consumer, idle, deliveries per entry; an error reply names
            # no consumer.
            words = cli("XPENDING", "test:items", "test", "-", "+", "100000", name).split()
            return sum(1 for i in range(1, len(words), 4) if words[i] == name)

        # r1 first, alone; frozen (SIGSTOP) as soon as it holds items, so it
        # dies holding them whatever the machine's speed: a stopped process
        # acknowledges nothing. Then the two others, then the SIGKILL.
        start("r1")
        deadline = time.monotonic() + 60
        held_by_r1 = 0
        while held_by_r1 == 0:
            if runners[0].poll() is not None or time.monotonic() > deadline:
                fail("the first runner never took an item")
            runners[0].send_signal(signal.SIGSTOP)
            held_by_r1 = held_by("r1")
            if held_by_r1 == 0:
                runners[0].send_signal(signal.SIGCONT)
                time.sleep(0.01)
        start("r2")
        start("r3")
        time.sleep(0.1)
        runners[0].send_signal(signal.SIGKILL)
        runners[0].wait(timeout=10)
        try:
            out, _ = submit.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            fail("the job did not finish: results " + cli("GET", "test:done"))
        if submit.returncode != 0:
            fail(f"the submitter failed ({submit.returncode})")
        for r in runners[1:]:
            try:
                r.wait(timeout=30)
            except subprocess.TimeoutExpired:
                fail("a runner did not stop after the job ended")
            if r.returncode != 0:
                fail(f"a runner failed ({r.returncode})")
        print("\n".join(r.stdout.read().strip() for r in runners[1:]))
        print("items r1 held when killed:", held_by_r1)

        check_results(a, cli)
        if held_by_r1 == 0:
            fail("the killed runner held no item: the test proved nothing")
        print(f"PASS: {a.items} items, one result each, none pending, after a SIGKILL")
    finally:
        for p in runners:
            if p.poll() is None:
                p.kill()
                p.wait()
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
