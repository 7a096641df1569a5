#!/usr/bin/env bash
# The README's main-job command. Until the car-price fetcher lands, the main
# job is the quick-start example: installs what is missing, builds it, runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/setup.sh"
cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOBRUNNER_BUILD_TESTS=OFF >/dev/null
cmake --build build/main --target jobrunner_quick_start
./build/main/examples/jobrunner_quick_start
