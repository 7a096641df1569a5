#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with warnings as
# errors, and runs the whole test suite.
#
#   scripts/test.sh [format|gcc|clang|asan|asan-clang|tsan|fuzz|all]...   (default: gcc)
#
#   gcc    g++ Release, -Werror, every test
#   clang  clang++ Release, -Werror, every test
#   asan   g++ Debug with ASan+UBSan and _GLIBCXX_ASSERTIONS, every test
#          (g++ 12 is the compiler whose coroutine double-destroy ASan catches)
#   asan-clang  the same with clang++ (LeakSanitizer included in both)
#   tsan   g++ with ThreadSanitizer, the threaded and stress tests
#   fuzz   clang++ libFuzzer targets (tests/fuzz), each run for
#          JOBRUNNER_FUZZ_SECONDS (default 20) from the corpus in tests/fuzz/corpus
#   format clang-format check of every C++ file (.clang-format)
#   all    format, then the six builds, in that order
set -euo pipefail
cd "$(dirname "$0")/.."

"$(dirname "$0")/setup.sh"

jobs=${JOBRUNNER_JOBS:-$(nproc)}
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(gcc)
[ "${configs[0]}" = all ] && configs=(format gcc clang asan asan-clang tsan fuzz)

run() { echo "+ $*"; "$@"; }

stage_start=0
stage_end() { echo "=== $1: done in $(( $(date +%s) - stage_start )) s ==="; }

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
  case "$c" in
    gcc|clang|asan|asan-clang|tsan|fuzz) ;;
    trixie-gcc|trixie-clang|sid-gcc)
      # A newer Debian, bootstrapped once and cached (scripts/chroot.sh).
      JOBRUNNER_JOBS=$jobs run scripts/chroot.sh test "$c"
      stage_end "$c"
      continue ;;
    *) echo "unknown configuration: $c" >&2; exit 2 ;;
  esac
  # The configurations are CMakePresets.json's presets of the same names.
  extra=()
  [ "$c" = fuzz ] && extra=(-DJOBRUNNER_FUZZ_SECONDS="${JOBRUNNER_FUZZ_SECONDS:-20}")
  run cmake --preset "$c" "${extra[@]}"
  run cmake --build --preset "$c" -j "$jobs"
  run ctest --preset "$c" -j "$jobs"
  stage_end "$c"
done
