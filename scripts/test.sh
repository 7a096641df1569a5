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

jobs=$(nproc)
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(gcc)
[ "${configs[0]}" = all ] && configs=(format gcc clang asan asan-clang tsan fuzz)

run() { echo "+ $*"; "$@"; }

for c in "${configs[@]}"; do
  echo "=== $c ==="
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
    continue
  fi
  dir="build/ci-$c"
  case "$c" in
    gcc)   run cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release \
             -DJOBRUNNER_WERROR=ON -DJOBRUNNER_BUILD_BENCHMARKS=ON
           filter=() ;;
    clang) run cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
             -DJOBRUNNER_WERROR=ON -DJOBRUNNER_BUILD_BENCHMARKS=ON
           filter=() ;;
    asan)  run cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug \
             -DJOBRUNNER_WERROR=ON -DJOBRUNNER_SANITIZE=address,undefined \
             -DCMAKE_CXX_FLAGS=-D_GLIBCXX_ASSERTIONS
           filter=() ;;
    tsan)  run cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
             -DJOBRUNNER_WERROR=ON -DJOBRUNNER_SANITIZE=thread -DJOBRUNNER_BUILD_EXAMPLES=OFF
           filter=(-R '^(threading_test|stress_test)\.') ;;
    asan-clang) run cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
             -DJOBRUNNER_WERROR=ON -DJOBRUNNER_SANITIZE=address,undefined
           filter=() ;;
    fuzz)  run cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
             -DJOBRUNNER_WERROR=ON -DJOBRUNNER_BUILD_TESTS=OFF -DJOBRUNNER_BUILD_EXAMPLES=OFF \
             -DJOBRUNNER_BUILD_FUZZERS=ON -DJOBRUNNER_FUZZ_SECONDS="${JOBRUNNER_FUZZ_SECONDS:-20}"
           filter=() ;;
    *) echo "unknown configuration: $c" >&2; exit 2 ;;
  esac
  run cmake --build "$dir" -j "$jobs"
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    run ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" "${filter[@]}"
done
