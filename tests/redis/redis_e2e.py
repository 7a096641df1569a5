#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""Runner processes share a job through a real redis-server (the case named by
--case). Every item must get exactly one result (with the right value) and
nothing may be left pending.

    redis_e2e.py --worker BIN --redis-server BIN --redis-cli BIN --case CASE [--items N]
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


# Every process a case starts, killed when the test ends (a failed case
# must not leave a redis-server or a runner behind).
SPAWNED = []


def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    SPAWNED.append(p)
    return p


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def job_prefix(cli):
    """The key prefix of the latest job named test ("{test}:ID")."""
    return "{test}:" + cli("GET", "{test}:current").strip()


def meta(cli, field):
    return cli("HGET", job_prefix(cli) + ":meta", field).strip()


def done_count(cli):
    return int(meta(cli, "done") or 0)


def dead_letters(cli, with_errors=False):
    """{item id: (value, deliveries)} of the latest job's dead-letter stream
    ((value, deliveries, error) with_errors)."""
    words = cli("XRANGE", job_prefix(cli) + ":dead", "-", "+").split("\n")
    out = {}
    i = 0
    while i < len(words) and words[i]:
        # An entry: its id, then field, value pairs.
        i += 1
        fields = {}
        while i + 1 < len(words) and words[i] in ("item", "deliveries", "data", "error"):
            fields[words[i]] = words[i + 1]
            i += 2
        letter = (int(fields["data"]), int(fields["deliveries"]))
        out[fields["item"]] = letter + (fields.get("error"),) if with_errors else letter
    return out


def check_results(a, cli, items=None, dead=()):
    # Every item of the latest job exactly once in its result stream, with 2
    # x its value (or, for the values in `dead`, in the dead-letter stream);
    # nothing pending; no consumer left in the group.
    items = a.items if items is None else items
    p = job_prefix(cli)
    entries = cli("XRANGE", p + ":items", "-", "+").split("\n")
    values = {}
    for i in range(0, len(entries) - 2, 3):
        values[entries[i]] = int(entries[i + 2])  # id, "data", value
    if len(values) != items:
        fail(f"{len(values)} items in the stream, expected {items}")
    results = cli("XRANGE", p + ":results", "-", "+").split("\n")
    seen = {}
    for i in range(0, len(results) - 6, 7):  # id, item, ID, status, S, result, R
        item, status, result = results[i + 2], results[i + 4], results[i + 6]
        if item in seen:
            fail(f"item {item} has two results")
        seen[item] = (status, result)
    letters = dead_letters(cli)
    if sorted(v for v, _ in letters.values()) != sorted(dead):
        fail(f"dead letters {sorted(v for v, _ in letters.values())}, expected {sorted(dead)}")
    if set(seen) & set(letters):
        fail("an item has a result and a dead letter")
    if set(seen) | set(letters) != set(values):
        fail(f"{len(set(values) - set(seen) - set(letters))} items without a result, "
             f"{len(set(seen) - set(values))} results of other items")
    for item, (status, result) in seen.items():
        if status != "ok" or int(result) != 2 * values[item]:
            fail(f"item {item}: {status} {result}")
    pending = cli("XPENDING", p + ":items", "workers").splitlines()
    if not pending or pending[0] != "0":
        fail(f"items left pending: {pending[:1]}")
    if meta(cli, "state") != "done":
        fail(f"the job's state is {meta(cli, 'state')!r}, not done")
    if int(cli("TTL", p + ":results").strip()) <= 0:
        fail("the finished job's results do not expire")


def held_by(cli, name):
    # id, consumer, idle, deliveries per entry; an error reply names no
    # consumer.
    words = cli("XPENDING", job_prefix(cli) + ":items", "workers", "-", "+", "100000",
                name).split()
    return sum(1 for i in range(1, len(words), 4) if words[i] == name)


def consumers(cli):
    words = cli("XINFO", "CONSUMERS", job_prefix(cli) + ":items", "workers").split("\n")
    return [words[i + 1] for i in range(len(words) - 1) if words[i] == "name"]


def wait_until(what, cond, timeout=60, procs=()):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            fail(f"{what}: not within {timeout} s")
        for p in procs:
            if p.poll() is not None:
                out = p.stdout.read() if p.stdout else ""
                fail(f"{what}: a process exited first ({p.returncode}): {out}")
        time.sleep(0.02)


def finish(proc, what, timeout=120, status=0):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail(f"{what} did not end within {timeout} s")
    if proc.returncode != status:
        fail(f"{what}: exit status {proc.returncode}, expected {status}: {out} {err}")
    no_sanitizer_report(what, err)
    return (out or "") + (err or "")


def no_sanitizer_report(what, err):
    # ASan exits 1 too: a process expected to fail must fail for its reason.
    if err and ("Sanitizer" in err or "runtime error" in err):
        fail(f"{what}: a sanitizer report: {err[-2000:]}")


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
    env = dict(os.environ, REDIS_WORKER_RECONNECT_MS="2000")
    for argv in (["submit", "10"], ["work", "r1", "5", "1000"]):
        r = subprocess.run([a.worker, str(port), *argv], capture_output=True, text=True,
                           timeout=60, env=env)
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
    added = int(cli("XLEN", job_prefix(cli) + ":items").strip())
    if not 0 < added < 50000:
        fail(f"the memory limit did not refuse part of the items: {added} added")
    if meta(cli, "state") != "submitting" or meta(cli, "total") != "-1":
        fail("a total was set over a partial stream")
    print(f"PASS: redis refused {50000 - added} of 50000 items; the submitter said so and "
          f"set no total")


def restart_case(a, port, cli, server, redis_cmd, submit):
    """Redis stops mid-job and comes back (its append-only file fsynced at
    every write): runners and submitter reconnect and finish the job (they
    once stopped with an error, and the submitter wrote every row off)."""
    # 50 ms tasks: the job lasts seconds, so it outlives the shutdown below
    # even when the runners are slow to start (ASan, a loaded machine).
    runners = [runner(a, port, name, delay=50, claim=500) for name in ("r1", "r2")]
    # Shut Redis down mid-job: as soon as the first results are in (a fixed
    # sleep could fall before the runners start, or after the job ends).
    wait_until("the first results", lambda: done_count(cli) > 0, procs=runners)
    done_before = done_count(cli)
    cli("SHUTDOWN", "NOSAVE")
    server.wait(timeout=30)
    server = spawn(redis_cmd, stdout=subprocess.DEVNULL)
    wait_for_ping(cli, server)
    done_after = done_count(cli)
    if done_after < done_before:
        fail(f"results acknowledged before the restart were lost: {done_before} -> {done_after}")
    print(f"results before the restart: {done_before}, kept: {done_after}")
    finish(submit, "the submitter after the restart")
    for r in runners:
        out = finish(r, "a runner after the restart", timeout=60)
        print(out.strip())
        if "reconnections 0" in out:
            fail("a runner did not reconnect")
    return server


def runner(a, port, name, delay=5, claim=1000, grace=None):
    argv = [a.worker, str(port), "work", name, str(delay), str(claim)]
    if grace is not None:
        argv.append(str(grace))
    return spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def submitter(a, port, items):
    return spawn([a.worker, str(port), "submit", str(items)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def order_case(a, port, cli):
    """Runners started before the submitter wait for the job (they once
    exited 1 with 'UNBLOCKED the stream key no longer exists' or NOGROUP,
    and the submitter then waited forever); one more joins mid-job."""
    # 50 ms tasks: the job lasts seconds, so r3 (started after the first
    # results) joins it while it is live even on a slow machine; a runner
    # started after the end would wait for the next job.
    rs = [runner(a, port, name, delay=50) for name in ("r1", "r2")]
    # Both connected (two connections each, and this client's), then give
    # them time to look for the job a few times.
    wait_until("the runners connect",
               lambda: len(cli("CLIENT", "LIST").splitlines()) >= 5, procs=rs)
    time.sleep(0.5)
    sub = submitter(a, port, a.items)
    wait_until("the first results", lambda: done_count(cli) > 0, procs=rs)
    rs.append(runner(a, port, "r3", delay=50))
    finish(sub, "the submitter")
    for r in rs:
        print(finish(r, "a runner", timeout=30).strip())
    check_results(a, cli)
    if consumers(cli):
        fail(f"consumers left in the group after the job: {consumers(cli)}")
    print(f"PASS: runners started before the submitter, one joined mid-job: {a.items} items, "
          f"one result each")


def reuse_case(a, port, cli):
    """A name used again: after a finished job, runners wait for the new one
    (they once took the old done = total for theirs and exited, and the new
    submitter waited forever); while a job is live, a second submit is
    refused and the live job is untouched (it once silently replaced it)."""
    rs = [runner(a, port, name) for name in ("r1", "r2")]
    sub = submitter(a, port, 1000)
    finish(sub, "job A's submitter")
    for r in rs:
        finish(r, "a runner of job A", timeout=30)
    check_results(a, cli, 1000)
    first = job_prefix(cli)
    rs = [runner(a, port, name) for name in ("r3", "r4")]
    time.sleep(1)
    if any(r.poll() is not None for r in rs):
        fail("runners started after job A ended did not wait for the next job: "
             + " ".join(finish(r, "a runner", status=r.returncode) for r in rs))
    sub = submitter(a, port, 1000)
    finish(sub, "job B's submitter")
    for r in rs:
        finish(r, "a runner of job B", timeout=30)
    check_results(a, cli, 1000)
    if job_prefix(cli) == first:
        fail("job B has the same id as job A")
    if int(cli("XLEN", first + ":results").strip()) != 1000:
        fail("job A's results changed")
    # A live job: no runner yet, so it stays live.
    sub = submitter(a, port, 500)
    wait_until("job C runs", lambda: meta(cli, "state") == "running", procs=[sub])
    live = job_prefix(cli)
    second = subprocess.run([a.worker, str(port), "submit", "300"], capture_output=True,
                            text=True, timeout=60)
    print("second submit:", second.returncode, second.stderr.strip())
    no_sanitizer_report("the second submit", second.stderr)
    if second.returncode != 1 or "JOBLIVE" not in second.stderr:
        fail("a second submit under a live name was not refused with a clear error")
    if job_prefix(cli) != live or int(cli("XLEN", live + ":items").strip()) != 500:
        fail("the refused submit changed the live job")
    r = runner(a, port, "r5")
    finish(sub, "job C's submitter")
    finish(r, "job C's runner", timeout=30)
    check_results(a, cli, 500)
    print("PASS: a finished name reused (new id, runners waited for it), a live one refused")


def cancel_case(a, port, cli):
    """A whole job cancelled: its submitter and runners stop with a status
    that says so, its keys expire, and the name can be used again."""
    sub = submitter(a, port, 3000)
    r1 = runner(a, port, "r1", delay=50)
    wait_until("the first results", lambda: done_count(cli) > 0, procs=[sub, r1])
    c = subprocess.run([a.worker, str(port), "cancel"], capture_output=True, text=True,
                       timeout=60)
    print(c.stdout.strip())
    if c.returncode != 0 or "cancelled" not in c.stdout:
        fail(f"cancel: {c.returncode} {c.stdout} {c.stderr}")
    out = finish(sub, "the cancelled job's submitter", timeout=60, status=1)
    if "cancelled" not in out:
        fail(f"the submitter did not say the job was cancelled: {out}")
    out = finish(r1, "the cancelled job's runner", timeout=60, status=3)
    if "cancelled" not in out:
        fail(f"the runner did not say the job was cancelled: {out}")
    if meta(cli, "state") != "cancelled" or int(cli("TTL", job_prefix(cli) + ":meta")) <= 0:
        fail("the cancelled job is not marked cancelled with keys that expire")
    sub = submitter(a, port, 100)
    r2 = runner(a, port, "r2")
    finish(sub, "the next job's submitter")
    finish(r2, "the next job's runner", timeout=30)
    check_results(a, cli, 100)
    print("PASS: a job cancelled (submitter exit 1, runner exit 3, keys expire); the name reused")


def sigterm_case(a, port, cli):
    """SIGTERM to a runner holding items, two others alive: it writes no
    result for what it did not finish (it once wrote them all `cancelled`),
    releases them for the others and exits 130. Items are reclaimed only
    after 60 s here, so the job ends in time only if they were released."""
    sub = submitter(a, port, a.items)
    wait_until("the job runs", lambda: meta(cli, "state") == "running", procs=[sub])
    # r1's tasks outlast its grace period; r0's do not (it drains).
    r1 = runner(a, port, "r1", delay=3000, claim=60000, grace=200)
    r0 = runner(a, port, "r0", delay=300, claim=60000, grace=30000)
    wait_until("r0 and r1 hold items", lambda: held_by(cli, "r1") > 0 and held_by(cli, "r0") > 0,
               procs=[r0, r1])
    rs = [runner(a, port, name, claim=60000) for name in ("r2", "r3")]
    held = held_by(cli, "r1")
    started = time.monotonic()
    r0.send_signal(signal.SIGTERM)
    r1.send_signal(signal.SIGTERM)
    out = finish(r1, "r1 after SIGTERM", timeout=30, status=130)
    print(out.strip())
    if "released 0" in out:
        fail("r1 released nothing")
    out = finish(r0, "r0 after SIGTERM", timeout=60, status=130)
    print(out.strip())
    words = out.split()
    if words[words.index("processed") + 1] != words[words.index("acknowledged") + 1]:
        fail("r0 did not finish the items it had taken within its grace period")
    finish(sub, "the submitter", timeout=45)
    for r in rs:
        finish(r, "a runner", timeout=30)
    check_results(a, cli)  # every result ok: none cancelled
    print(f"PASS: r1 held {held} items at SIGTERM, exited 130, wrote no result for the ones it "
          f"had not finished; the job ended {time.monotonic() - started:.1f} s later")


def ackloss_case(a, port, cli):
    """A runner's acknowledgement connection is killed mid-job: the runner
    reconnects and goes on (it once went on taking items it could not
    acknowledge, and exited 0 with the job unfinished); the acknowledgements
    lost with the connection leave their items pending, claimed again."""
    sub = submitter(a, port, a.items)
    rs = [runner(a, port, name, delay=50) for name in ("r1", "r2")]

    def acker_id():
        for line in cli("CLIENT", "LIST").splitlines():
            if "name=jobrunner:r1:acker" in line:
                return line.split()[0].split("=")[1]
        return None

    wait_until("r1 acknowledges", lambda: done_count(cli) > 0 and acker_id(), procs=rs)
    killed = acker_id()
    cli("CLIENT", "KILL", "ID", killed)
    wait_until("r1's acknowledgement connection is made again",
               lambda: acker_id() not in (None, killed), procs=rs)
    finish(sub, "the submitter")
    for r in rs:
        print(finish(r, "a runner", timeout=30).strip())
    check_results(a, cli)
    print("PASS: the acknowledgement connection killed: the runner reconnected; the job ended "
          "with one result per item")


def idle_case(a, port, cli):
    """Redis closes connections idle for 2 s (`timeout 2`; a NAT or a load
    balancer does the same) and tasks take 4 s: the job once hung forever.
    (With 2.5 s tasks the connections were idle only 0.5 s past the timeout,
    and under ASan redis's periodic check sometimes missed that window.)
    Runners notice the closed connections and reconnect."""
    cli("CONFIG", "SET", "timeout", "2")
    sub = submitter(a, port, 120)
    rs = [runner(a, port, name, delay=4000, claim=10000) for name in ("r1", "r2")]
    finish(sub, "the submitter", timeout=120)
    outs = [finish(r, "a runner", timeout=30) for r in rs]
    print("\n".join(o.strip() for o in outs))
    if all("reconnections 0" in o for o in outs):
        fail("no connection was closed by the idle timeout: the test proved nothing")
    check_results(a, cli, 120)
    print("PASS: with redis's idle timeout shorter than a task, the job ended")


def silent_case(a, port):
    """A peer that accepts connections and never answers (a wrong port, a
    hung proxy): the submitter and a runner once waited forever; with a 1 s
    command timeout and 3 s of reconnection, they stop with the reason."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen(16)  # the kernel completes the handshakes; nobody answers
        env = dict(os.environ, REDIS_WORKER_TIMEOUT_MS="1000", REDIS_WORKER_RECONNECT_MS="3000")
        for argv in (["submit", "10"], ["work", "r1", "5", "1000"]):
            try:
                r = subprocess.run([a.worker, str(port), *argv], capture_output=True, text=True,
                                   timeout=60, env=env)
            except subprocess.TimeoutExpired:
                fail(f"{argv[0]} hung on a peer that never answers")
            print(f"{argv[0]}: exit {r.returncode}: {r.stderr.strip()}")
            no_sanitizer_report(argv[0], r.stderr)
            if r.returncode != 1 or ("no answer" not in r.stderr and "timed out" not in r.stderr):
                fail(f"{argv[0]} did not stop with a clear error")
    print("PASS: a peer that never answers: the submitter and the runner said so and exited 1")


def poison_case(a, port, cli):
    """An item that kills every runner that takes it (it was reclaimed
    forever): after 5 deliveries it goes to the dead-letter stream, and the
    job ends. Runners are restarted as they die (as a supervisor would);
    items delivered twice without a result run alone, so the others taken
    with the poison item are not dead-lettered with it."""
    env = dict(os.environ, REDIS_WORKER_CRASH_ON="7")
    sub = submitter(a, port, 200)
    live = []
    starts = 0
    deadline = time.monotonic() + 120
    while sub.poll() is None:
        if time.monotonic() > deadline:
            fail(f"the job did not end: {done_count(cli)} results, {meta(cli, 'dead')} dead")
        live = [r for r in live if r.poll() is None or r.returncode != 70]
        while len(live) < 2 and starts < 30:
            starts += 1
            live.append(spawn([a.worker, str(port), "work", f"r{starts}", "5", "500"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        time.sleep(0.05)
    out = finish(sub, "the submitter")
    print(out.strip())
    for r in live:
        finish(r, "a runner", timeout=30)
    letters = dead_letters(cli)
    check_results(a, cli, 200, dead=[7])
    (value, deliveries), = letters.values()
    if deliveries != 5:
        fail(f"the poison item was dead-lettered after {deliveries} deliveries, not 5")
    if "1 dead letters" not in out:
        fail("the submitter did not report the dead letter")
    (_, _, error), = dead_letters(cli, with_errors=True).values()
    if error != "delivered 5 times without a result" \
            or "dead letter: value 7 after 5 deliveries: delivered 5 times without a result" \
            not in out:
        fail(f"the dead letter's error is {error!r}; the submitter said {out!r}")
    print(f"PASS: the poison item killed {starts - 2}+ runners, then went to the dead-letter "
          f"stream after {deliveries} deliveries; the 199 others have their result")


def release_case(a, port, cli):
    """A runner whose every task fails with its own problem (a wrong --url:
    connection refused) once turned its items into final failures; it now
    releases them, and a good runner prices them all."""
    env = dict(os.environ, REDIS_WORKER_OWN_FAILURE="1")
    sub = submitter(a, port, 300)
    bad = spawn([a.worker, str(port), "work", "bad", "5", "1000"], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until("the bad runner holds items", lambda: held_by(cli, "bad") > 0, procs=[bad])
    good = runner(a, port, "good")
    finish(sub, "the submitter")
    for r, name in ((bad, "bad"), (good, "good")):
        print(finish(r, f"the {name} runner", timeout=30).strip())
    check_results(a, cli, 300)
    print("PASS: the failing runner released its items; every item has an ok result")


def deadletter_case(a, port, cli):
    """Items that no runner can process (each fails with its own problem,
    "own: connection refused", and releases them) go to the dead-letter
    stream after 5 deliveries with the last attempt's error (they once
    carried no error), and the submitter and the status view report it. A
    runner does not take back what it released: six of them (five
    deliveries, the sixth claims it as a dead letter)."""
    env = dict(os.environ, REDIS_WORKER_OWN_FAILURE="1")
    sub = submitter(a, port, 20)
    bad = []
    for n in range(1, 7):
        bad.append(spawn([a.worker, str(port), "work", f"bad{n}", "5", "300"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    out = finish(sub, "the submitter")
    print(out.strip())
    for r in bad:
        finish(r, "a failing runner", timeout=60)
    letters = dead_letters(cli, with_errors=True)
    if sorted(v for v, _, _ in letters.values()) != list(range(20)):
        fail(f"dead letters {sorted(letters.values())}, expected every item")
    for value, deliveries, error in letters.values():
        if deliveries != 5 or error != "own: connection refused":
            fail(f"the dead letter of {value}: {deliveries} deliveries, error {error!r}")
    if "20 dead letters" not in out or \
            out.count("after 5 deliveries: own: connection refused") != 20:
        fail("the submitter did not report the dead letters with their error")
    st = subprocess.run([a.worker, str(port), "status"], capture_output=True, text=True,
                        timeout=60)
    print(st.stdout.strip())
    if not st.stdout.startswith("job 1 of test: done, 0/20 done, 0 failed, 20 dead letters") \
            or st.stdout.count("after 5 deliveries: own: connection refused") != 10:
        fail("the status view does not show the dead letters (the first 10) with their error")
    print("PASS: items every runner failed went to the dead-letter stream after 5 deliveries, "
          "with the last error; the submitter and the status view report it")


def readahead_case(a, port, cli):
    """Three runners with a small queue (2 workers, 2 places) and slow tasks
    (100 ms) reclaim items pending for 2 s. A runner once read 100 items
    at a time and held them waiting for a place far longer than that (5 s):
    another runner claimed them, a third claimed them from it, and so on
    (dead-lettered after 5 deliveries, without any crash, on a loaded
    machine). A runner now reads only as many items as it has room for: no
    item runs more than twice (twice only if a loaded machine delays an
    acknowledgement past the claim time), none is dead-lettered."""
    trace = os.path.join(tempfile.mkdtemp(), "runs")
    env = dict(os.environ, REDIS_WORKER_WORKERS="2", REDIS_WORKER_QUEUE="2",
               REDIS_WORKER_TRACE=trace)
    items = 100
    sub = submitter(a, port, items)
    rs = [spawn([a.worker, str(port), "work", name, "100", "2000"], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for name in ("r1", "r2", "r3")]
    print(finish(sub, "the submitter").strip())
    for r in rs:
        print(finish(r, "a runner", timeout=60).strip())
    with open(trace) as f:
        runs = [int(line) for line in f if line.strip()]
    counts = {v: runs.count(v) for v in set(runs)}
    print(f"{len(runs)} runs of {len(counts)} items, at most {max(counts.values())} of one; "
          f"{meta(cli, 'reclaimed') or 0} reclaimed, {meta(cli, 'dead') or 0} dead letters")
    often = sorted(v for v, n in counts.items() if n > 2)
    if often:
        fail(f"{len(often)} items ran more than twice (read ahead, reclaimed): {often[:10]}")
    check_results(a, cli, items)
    print(f"PASS: {items} items, each run at most twice by three slow runners with a 2 s claim "
          f"time, none dead-lettered")


def status_case(a, port, cli):
    """The status view of a job from the command line: state, counts, and
    what each runner holds (there was none: workers printed nothing until
    they exited)."""
    sub = submitter(a, port, 3000)
    r1 = runner(a, port, "r1", delay=50)
    wait_until("r1 holds items", lambda: held_by(cli, "r1") > 0 and done_count(cli) > 0,
               procs=[sub, r1])
    st = subprocess.run([a.worker, str(port), "status"], capture_output=True, text=True,
                        timeout=60)
    print(st.stdout.strip())
    first = st.stdout.splitlines()[0] if st.stdout else ""
    if st.returncode != 0 or not first.startswith("job 1 of test: running, ") \
            or "/3000 done" not in first:
        fail("the status does not show the running job")
    held = [line for line in st.stdout.splitlines() if line.strip().startswith("r1: ")]
    if not held or int(held[0].split()[1]) <= 0:
        fail("the status does not show what r1 holds")
    finish(sub, "the submitter")
    finish(r1, "r1", timeout=30)
    st = subprocess.run([a.worker, str(port), "status"], capture_output=True, text=True,
                        timeout=60)
    print(st.stdout.strip())
    if not st.stdout.startswith("job 1 of test: done, 3000/3000 done, 0 failed, 0 dead letters"):
        fail("the status does not show the finished job")
    print("PASS: the status view shows a running job (with what each runner holds) and a "
          "finished one")


def auth_case(a, port, cli):
    """Redis with a password (requirepass) and an ACL user: runners and a
    submitter given them (a password, or a redis://user:password@ URL) do the
    job; one without says why it cannot."""
    cli("ACL", "SETUSER", "tester", "on", ">pw2", "~*", "&*", "+@all")
    with_password = dict(os.environ, REDIS_WORKER_PASSWORD="secret")
    as_user = dict(os.environ, REDIS_WORKER_URL=f"redis://tester:pw2@127.0.0.1:{port}")
    sub = spawn([a.worker, str(port), "submit", "500"], env=as_user, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
    r1 = spawn([a.worker, str(port), "work", "r1", "5", "1000"], env=with_password,
               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finish(sub, "the submitter (ACL user in a redis:// URL)")
    finish(r1, "the runner (password)", timeout=30)
    check_results(a, cli, 500)
    for env, what in ((dict(os.environ), "NOAUTH"),
                      (dict(os.environ, REDIS_WORKER_PASSWORD="wrong"), "WRONGPASS")):
        r = subprocess.run([a.worker, str(port), "work", "r2", "5", "1000"], env=env,
                           capture_output=True, text=True, timeout=60)
        print(f"exit {r.returncode}: {r.stderr.strip()}")
        no_sanitizer_report("a runner without the password", r.stderr)
        if r.returncode != 1 or what not in r.stderr:
            fail(f"a runner without the right password did not say {what}")
    print("PASS: AUTH with a password and with an ACL user (redis:// URL); without, a clear "
          "error")


def cluster_case(a):
    """A Redis Cluster of three masters on loopback: the submitter and the
    runners are given a node that does not serve the job's hash slot (all
    of a job's keys share the {test} tag, so one node serves the whole
    job); they follow its MOVED reply to the node that does (they once
    stopped at the first command with 'MOVED ...'), and the job is done."""
    tmp = tempfile.mkdtemp()
    ports = []
    while len(ports) < 3:  # each node's cluster bus listens on its port + 10000
        p = free_port()
        if p < 55000 and p not in ports:
            with socket.socket() as bus:
                try:
                    bus.bind(("127.0.0.1", p + 10000))
                except OSError:
                    continue
            ports.append(p)
    for p in ports:
        d = os.path.join(tmp, str(p))
        os.mkdir(d)
        spawn([a.redis_server, "--port", str(p), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", d, "--cluster-enabled", "yes",
               "--cluster-config-file", os.path.join(d, "nodes.conf")],
              stdout=subprocess.DEVNULL)

    def node_cli(port, *args):
        return subprocess.run([a.redis_cli, "-p", str(port), "--raw", *args],
                              capture_output=True, text=True, timeout=30).stdout

    try:
        for p in ports:
            wait_until(f"node {p} answers", lambda: node_cli(p, "PING").strip() == "PONG")
        r = subprocess.run([a.redis_cli, "--cluster", "create",
                            *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "0",
                            "--cluster-yes"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            fail(f"redis-cli --cluster create: {r.stdout[-500:]} {r.stderr[-500:]}")
        for p in ports:
            wait_until(f"node {p} sees the cluster up",
                       lambda: "cluster_state:ok" in node_cli(p, "CLUSTER", "INFO"))
        slot = int(node_cli(ports[0], "CLUSTER", "KEYSLOT", "{test}").strip())
        owner = None
        for p in ports:
            if node_cli(p, "SET", "{test}:probe", "1").strip() == "OK":
                owner = p
        if owner is None:
            fail(f"no node serves slot {slot}")
        other = next(p for p in ports if p != owner)
        print(f"slot {slot} of {{test}} is served by node {owner}; clients are given node {other}")

        def cli(*args):  # follows redirections (-c)
            return subprocess.run([a.redis_cli, "-c", "-p", str(other), "--raw", *args],
                                  capture_output=True, text=True, timeout=30).stdout

        sub = submitter(a, other, 2000)
        runners = [runner(a, other, name) for name in ("r1", "r2")]
        print(finish(sub, "the submitter (given a node without the job's slot)").strip())
        for r in runners:
            print(finish(r, "a runner (given a node without the job's slot)", timeout=60).strip())
        check_results(a, cli, 2000)
        for p in ports:
            if p != owner and node_cli(p, "DBSIZE").strip() != "0":
                fail(f"node {p}, which does not serve the slot, holds keys")
        print("PASS: a job on a three-node Redis Cluster: clients given another node followed "
              "MOVED to the slot's node; 2000 items, one result each")
    finally:
        for p in SPAWNED:
            if p.poll() is None:
                p.kill()
                p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", required=True)
    ap.add_argument("--redis-server", required=True)
    ap.add_argument("--redis-cli", required=True)
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--case", default="kill", choices=["kill", "restart", "oom", "refused", "order", "reuse",
                                                    "cancel", "sigterm", "ackloss", "idle",
                                                    "silent", "poison", "release", "status",
                                                    "auth", "deadletter", "cluster",
                                                    "readahead"])
    a = ap.parse_args()
    port = free_port()
    if a.case == "refused":
        refused_case(a, port)
        return
    if a.case == "silent":
        silent_case(a, port)
        return
    if a.case == "cluster":
        cluster_case(a)
        return
    tmp = tempfile.mkdtemp()
    durable = ["--appendonly", "yes", "--appendfsync", "always"] if a.case == "restart" else \
        ["--appendonly", "no"]
    password = ["--requirepass", "secret"] if a.case == "auth" else []
    redis_cmd = [a.redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--dir", tmp, *durable, *password]
    server = spawn(redis_cmd, stdout=subprocess.DEVNULL)
    runners = []

    def cli(*args):
        auth = ["-a", "secret", "--no-auth-warning"] if password else []
        return subprocess.run([a.redis_cli, "-p", str(port), *auth, "--raw", *args],
                              capture_output=True, text=True, timeout=30).stdout

    try:
        wait_for_ping(cli, server)
        if a.case == "oom":
            oom_case(a, port, cli)
            return
        others = {"order": order_case, "reuse": reuse_case, "cancel": cancel_case,
                  "sigterm": sigterm_case, "ackloss": ackloss_case, "idle": idle_case,
                  "poison": poison_case, "release": release_case, "deadletter": deadletter_case,
                  "status": status_case, "auth": auth_case,
                  "readahead": readahead_case}
        if a.case in others:
            others[a.case](a, port, cli)
            return
        submit = spawn([a.worker, str(port), "submit", str(a.items)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The job runs once its total is set (submit sets it last).
        deadline = time.monotonic() + 60
        while meta(cli, "state") != "running":
            if submit.poll() is not None or time.monotonic() > deadline:
                fail("the submitter did not set the job's total")
            time.sleep(0.02)
        if a.case == "restart":
            server = restart_case(a, port, cli, server, redis_cmd, submit)
            check_results(a, cli)
            print(f"PASS: redis restarted mid-job; the runners and the submitter reconnected "
                  f"and finished the job: {a.items} items, one result each")
            return
        # 20 workers a runner, 5 ms a task: about 4,000 items/s each; items
        # pending for 1 s are reclaimed.
        def start(name):
            runners.append(spawn([a.worker, str(port), "work", name, "5", "1000"],
                                 stdout=subprocess.PIPE, text=True))

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
            held_by_r1 = held_by(cli, "r1")
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
            fail(f"the job did not finish: {done_count(cli)} results")
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
        if consumers(cli):
            fail(f"consumers left in the group after the job: {consumers(cli)} (r1 died)")
        if held_by_r1 == 0:
            fail("the killed runner held no item: the test proved nothing")
        print(f"PASS: {a.items} items, one result each, none pending, after a SIGKILL")
    finally:
        for p in SPAWNED:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()
