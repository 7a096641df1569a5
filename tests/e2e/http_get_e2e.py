#!/usr/bin/env python3
# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
"""examples/02_http_get against the bundled car_price_server on loopback: every
URL's status in input order, and a failure reported, not dropped."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("--server", required=True)
parser.add_argument("--http-get", required=True)
args = parser.parse_args()


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


with tempfile.TemporaryDirectory() as tmp:
    port_file = os.path.join(tmp, "port")
    server = subprocess.Popen([args.server, "--port", "0", "--port-file", port_file],
                              stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a sanitizer build on a loaded machine starts slowly
        while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
            if server.poll() is not None:
                fail("the server exited at start")
            if time.monotonic() > deadline:
                fail("the server wrote no port file in 60 s")
            time.sleep(0.02)
        with open(port_file) as f:
            base = "http://127.0.0.1:%d" % int(f.read())
        # (path, expected status): /health 200, an unknown path 404, GET on
        # the POST-only API 405; 40 URLs, more than the example's 8 workers.
        cases = [("/health", 200), ("/nope", 404), ("/v1/price", 405), ("/stats", 200)] * 10
        urls = [base + path for path, _ in cases]
        out = subprocess.run([args.http_get, *urls], capture_output=True, text=True, timeout=240)
        lines = out.stdout.splitlines()
        if out.returncode != 0:
            fail("exit status %d: %s %s" % (out.returncode, out.stdout, out.stderr))
        if len(lines) != len(urls):
            fail("%d lines for %d URLs: %s" % (len(lines), len(urls), out.stdout))
        for line, url, (path, status) in zip(lines, urls, cases):
            fields = line.split()
            if fields[0] != str(status) or fields[2] != url:
                fail("expected %d for %s in this place, got: %s" % (status, url, line))
        # A refused connection is reported in its place, with a non-zero exit.
        bad = subprocess.run([args.http_get, base + "/health", "http://127.0.0.1:1/x"],
                             capture_output=True, text=True, timeout=240)
        bad_lines = bad.stdout.splitlines()
        if bad.returncode != 1 or len(bad_lines) != 2 or not bad_lines[0].startswith("200 ") \
                or not bad_lines[1].startswith("error http://127.0.0.1:1/x"):
            fail("a refused connection: exit %d, output %r" % (bad.returncode, bad.stdout))
    finally:
        server.terminate()
        server.wait(timeout=30)
print("PASS: http_get")
