#!/usr/bin/env python3
"""clang-tidy over include/ (the tidy stage of scripts/test.sh).

Reads BUILD/compile_commands.json (the `tidy` preset: one generated
translation unit per header, cmake/header-check.cmake), picks the fewest of
those units whose includes reach every header under include/jobrunner (the
preprocessor's dependency list, `-MM`), and runs clang-tidy on them with
.clang-tidy, whose HeaderFilterRegex reports findings in include/ only.
Fails if a header is reached by no unit, or on any finding.

Usage: scripts/tidy.py BUILD_DIR [JOBS]
"""
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

CLANG_TIDY = os.environ.get("CLANG_TIDY", "clang-tidy")


def main() -> int:
    build = os.path.abspath(sys.argv[1])
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count() or 1
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    include = os.path.join(root, "include")
    headers = set()
    for dirpath, _, files in os.walk(os.path.join(include, "jobrunner")):
        headers.update(os.path.join(dirpath, f) for f in files if f.endswith(".hpp"))

    units = {}
    for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
        if "/header_check/" not in entry["file"]:
            continue
        args = entry.get("arguments") or shlex.split(entry["command"])
        # The dependency list instead of an object file.
        cmd, skip = [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MT", "-MQ"):
                skip = True
                continue
            if a in ("-c", "-MD", "-MMD"):
                continue
            cmd.append(a)
        out = subprocess.run(cmd + ["-MM", "-MF", "-"], cwd=entry["directory"],
                             capture_output=True, text=True, check=True).stdout
        deps = {os.path.realpath(d) for d in out.replace("\\\n", " ").split()[1:]}
        units[entry["file"]] = deps & headers

    missing = headers - set().union(*units.values())
    if missing:
        print("tidy: headers reached by no header-check unit:", *sorted(missing), file=sys.stderr)
        return 1
    chosen, left = [], set(headers)
    while left:  # greedy set cover: the unit that reaches most of what is left
        best = max(sorted(units), key=lambda u: len(units[u] & left))
        chosen.append(best)
        left -= units[best]
    print(f"tidy: {len(headers)} headers, through {len(chosen)} of {len(units)} units:",
          *(os.path.relpath(u, build) for u in chosen))

    def tidy(unit):
        r = subprocess.run([CLANG_TIDY, "--quiet", "-p", build, unit],
                           capture_output=True, text=True)
        return unit, r.returncode, r.stdout + r.stderr

    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for unit, rc, text in pool.map(tidy, chosen):
            findings = [l for l in text.splitlines() if ": error:" in l or ": warning:" in l]
            if rc != 0 or findings:
                failed += 1
                print(f"tidy: {os.path.relpath(unit, build)}:\n{text}", file=sys.stderr)
    if failed:
        print(f"tidy: findings in {failed} unit(s)", file=sys.stderr)
        return 1
    print("tidy: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
