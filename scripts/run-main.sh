#!/usr/bin/env bash
# The README's main-job command: installs what is missing, builds the
# car-price server and fetcher, starts the server on a free loopback port,
# prices the bundled cars (progress on stderr, results in build/main/prices.csv),
# and stops the server.
#
#   scripts/run-main.sh [fetcher options...]    e.g. --workers 20 --output prices.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/setup.sh"
cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOBRUNNER_BUILD_TESTS=OFF >/dev/null
cmake --build build/main --target car_price_server car_price_fetcher

bin=build/main/examples
port_file=$(mktemp -u /tmp/car_price_port.XXXXXX)
# A server that behaves like a real API: 5-15 ms answers, 1% errors,
# an occasional 429 with Retry-After, a few dropped connections.
"$bin/car_price_server" --port 0 --port-file "$port_file" --latency-ms 10 --jitter-ms 5 \
  --error-rate 0.01 --rate-429 0.002 --max-429 2 --drop-rate 0.005 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
port=$(cat "$port_file")

status=0
"$bin/car_price_fetcher" --url "http://127.0.0.1:$port/v1/price" \
  --input examples/car_price_fetcher/data/cars.csv --output build/main/prices.csv "$@" || status=$?
echo "results: build/main/prices.csv ($(($(wc -l < build/main/prices.csv) - 1)) rows)"
exit $status
