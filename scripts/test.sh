#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with warnings as
# errors, and runs the whole test suite. Each build is the CMakePresets.json
# preset of the stage's name.
#
#   scripts/test.sh [STAGE]...   (default: gcc)
#
#   JOBRUNNER_JOBS=N       build jobs (default nproc)
#   JOBRUNNER_TEST_JOBS=N  ctest jobs (default twice the build jobs: most tests
#                          wait on timers, sockets and child processes, and use
#                          about 0.8 of 2 cores at -j2; the CPU-bound tsan and
#                          fuzz stages use the build jobs)
#
#   format  clang-format check of every C++ file (.clang-format), test names,
#           every header listed in CMakeLists.txt's FILE_SET
#   tidy    clang-tidy 14 (.clang-tidy) over the header-check units (scripts/tidy.py)
#   gcc     g++ Release, -Werror, every test, benchmark smoke runs, and each header
#           under include/jobrunner compiled on its own (JOBRUNNER_HEADER_CHECK)
#   clang   clang++ Release, -Werror, every test (no benchmarks: gcc builds and runs them;
#           benchmarks/harness.py builds its own clang copies)
#   asan    g++ Debug with ASan+UBSan and _GLIBCXX_ASSERTIONS, every test
#           (g++ 12 is the compiler whose coroutine double-destroy ASan catches)
#   asan-clang  the same with clang++ 14 (not in all: g++'s ASan stage covers the library)
#   tsan    g++ with ThreadSanitizer, the threaded and stress tests
#   fuzz    clang++ libFuzzer targets (tests/fuzz), each run for
#           JOBRUNNER_FUZZ_SECONDS (default 20) from the corpus in tests/fuzz/corpus
#   docs    the Doxygen API reference (warnings as errors), every page opened in
#           headless Chromium: no broken internal link, no page without content
#   trixie-gcc    Debian 13, g++ 14, Boost 1.88, Catch2 3: Release, -Werror, every test
#   trixie-clang  Debian 13, clang 19, Boost 1.83: Debug, ASan+UBSan, -Werror, every test
#   sid-gcc       Debian unstable, its g++ and newest Boost: Release, -Werror, every test
#           (root, else through sudo: scripts/chroot.sh bootstraps each system once, into
#           /var/cache/jobrunner-ci/NAME, and builds in it; no benchmarks)
#   all     format tidy gcc clang asan tsan fuzz docs trixie-gcc trixie-clang sid-gcc
#           (what CI runs); the systems missing from the cache are bootstrapped
#           in the background from the start (a first bootstrap took 9-31 min each here)
#   newer   trixie-gcc trixie-clang sid-gcc
set -euo pipefail
cd "$(dirname "$0")/.."

"$(dirname "$0")/setup.sh"

jobs=${JOBRUNNER_JOBS:-$(nproc)}
test_jobs=${JOBRUNNER_TEST_JOBS:-$(( 2 * jobs ))}
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(gcc)
[ "${configs[0]}" = all ] && configs=(format tidy gcc clang asan tsan fuzz docs trixie-gcc trixie-clang sid-gcc)
[ "${configs[0]}" = newer ] && configs=(trixie-gcc trixie-clang sid-gcc)

# debootstrap and chroot need root: through sudo for another user.
as_root=()
[ "$(id -u)" -ne 0 ] && as_root=(sudo)

# Bootstraps (mostly download and unpacking) overlap the builds: one chain in
# the background, logged in build/; the first chroot stage waits for it.
bootstrap_pid=
chroots=()
for c in "${configs[@]}"; do
  case "$c" in trixie-gcc|trixie-clang|sid-gcc) chroots+=("$c") ;; esac
done
if [ ${#chroots[@]} -gt 1 ]; then
  mkdir -p build
  ( for n in "${chroots[@]}"; do "${as_root[@]}" scripts/chroot.sh bootstrap "$n" || true; done ) \
    > build/chroot-bootstrap.log 2>&1 &
  bootstrap_pid=$!
  echo "chroot systems ${chroots[*]}: bootstrapping in the background (build/chroot-bootstrap.log)"
fi

run() { echo "+ $*"; "$@"; }

stage_start=0
summary=()
stage_end() {
  local t=$(( $(date +%s) - stage_start ))
  summary+=("$1 $t s")
  echo "=== $1: done in $t s ==="
}

for c in "${configs[@]}"; do
  echo "=== $c ==="
  stage_start=$(date +%s)
  if [ "$c" = format ]; then
    git ls-files '*.hpp' '*.cpp' | xargs clang-format --dry-run --Werror
    # catch_discover_tests splits test names at ';', leaving tests that run nothing.
    if git grep -n 'TEST_CASE("[^"]*;' -- tests; then
      echo "format: a test name contains ';'" >&2
      exit 1
    fi
    # Every header is installed: listed in the FILE_SET of CMakeLists.txt.
    unlisted=$(git ls-files 'include/*.hpp' | while read -r f; do
      grep -qxF "    $f" CMakeLists.txt || grep -qxF "    $f)" CMakeLists.txt || echo "$f"; done)
    if [ -n "$unlisted" ]; then
      echo "format: headers missing from CMakeLists.txt's FILE_SET: $unlisted" >&2
      exit 1
    fi
    echo "format: clean"
    stage_end "$c"
    continue
  fi
  if [ "$c" = tidy ]; then
    # clang-tidy (.clang-tidy) over the header-check units: configure only.
    run cmake --preset tidy
    run python3 scripts/tidy.py build/ci-tidy "$jobs"
    stage_end "$c"
    continue
  fi
  if [ "$c" = docs ]; then
    # The API reference with warnings as errors, then every page opened in
    # headless Chromium: no broken internal link, no page without content.
    run cmake --preset docs
    run cmake --build build/ci-docs --target docs
    run python3 scripts/check_docs.py build/ci-docs/docs/html
    stage_end "$c"
    continue
  fi
  case "$c" in
    gcc|clang|asan|asan-clang|tsan|fuzz) ;;
    trixie-gcc|trixie-clang|sid-gcc)
      # A newer Debian, bootstrapped once and cached (scripts/chroot.sh).
      if [ -n "$bootstrap_pid" ]; then
        wait "$bootstrap_pid" || true
        bootstrap_pid=
        cat build/chroot-bootstrap.log | grep '^chroot:' || true
      fi
      run "${as_root[@]}" env JOBRUNNER_JOBS="$jobs" JOBRUNNER_TEST_JOBS="$test_jobs" \
        scripts/chroot.sh test "$c"
      stage_end "$c"
      continue ;;
    *) echo "unknown configuration: $c" >&2; exit 2 ;;
  esac
  # The configurations are CMakePresets.json's presets of the same names.
  extra=()
  [ "$c" = fuzz ] && extra=(-DJOBRUNNER_FUZZ_SECONDS="${JOBRUNNER_FUZZ_SECONDS:-20}")
  run cmake --preset "$c" "${extra[@]}"
  run cmake --build --preset "$c" -j "$jobs"
  case "$c" in tsan|fuzz) cj=$jobs ;; *) cj=$test_jobs ;; esac
  run ctest --preset "$c" -j "$cj"
  stage_end "$c"
done
[ ${#summary[@]} -gt 1 ] && printf '=== stage times: %s ===\n' "$(IFS=,; echo "${summary[*]}" | sed 's/,/, /g')"
exit 0
