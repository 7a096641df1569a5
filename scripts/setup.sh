#!/usr/bin/env bash
# Installs what jobrunner needs on Debian 12, from Debian's archive only.
# Idempotent: installs only the packages that are missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build clang clang-format git python3
  libclang-rt-14-dev      # clang's sanitizer and libFuzzer runtimes (only recommended by clang)
  gnuplot-nox             # benchmark plots
  libboost1.81-dev        # Asio channels and co_composed need Boost >= 1.81 (not libboost-dev: 1.74)
  libboost-json1.81-dev   # the car-price example
  libssl-dev openssl      # the car-price example's https (and its test certificate)
  libhiredis-dev redis-server  # the optional Redis Streams part and its tests
  catch2                  # tests (Catch2 2.13 on Debian 12)
  libbenchmark-dev        # benchmarks
  golang-go               # the benchmarks' Go peer (benchmarks/go_bench)
  pkgconf                 # the pkg-config consumer test (tests/package/pkg_config)
  clang-tidy              # the tidy stage (.clang-tidy; clang-tidy 14 on Debian 12)
  debootstrap             # the Debian 13 / unstable stages (scripts/chroot.sh)
  doxygen                 # the API reference (docs target, docs stage)
  chromium                # the docs stage opens the generated pages headless
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
