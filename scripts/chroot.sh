#!/usr/bin/env bash
# Builds and tests jobrunner inside a newer Debian, bootstrapped with debootstrap
# from deb.debian.org and cached between runs (root only: debootstrap, chroot).
#
#   scripts/chroot.sh bootstrap NAME   create (or complete) the cached system NAME
#   scripts/chroot.sh test NAME        bootstrap if needed, then configure, build
#                                      and run ctest in it with CMake preset NAME
#   scripts/chroot.sh shell NAME       a shell in the system, the source at /src
#
# NAME        Debian          compiler   Boost                 preset (CMakePresets.json)
# trixie-gcc  13 (trixie)     g++ 14     libboost1.88-dev      Release, -Werror
# trixie-clang 13 (trixie)    clang 19   libboost1.83-dev      Debug, ASan+UBSan, -Werror
# sid-gcc     unstable        g++        the newest libboost1.NN-dev of unstable, Release, -Werror
#
# Systems live in $JOBRUNNER_CHROOT_CACHE (default /var/cache/jobrunner-ci), one
# folder each, outside the clone. A system is complete when its marker file
# (.jobrunner-ready, written last) lists the packages below; an incomplete
# one (an interrupted bootstrap) is removed and bootstrapped again. The build
# uses the source tree bind-mounted at /src, and its build folder is
# build/NAME in the tree. Mounts are made in a private mount namespace
# (unshare), so nothing stays mounted when the script ends, even if killed.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${JOBRUNNER_CHROOT_CACHE:-/var/cache/jobrunner-ci}
mirror=${JOBRUNNER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
jobs=${JOBRUNNER_JOBS:-$(nproc)}
test_jobs=${JOBRUNNER_TEST_JOBS:-$(( 2 * jobs ))}

# What the tests need inside (the Debian 12 list is scripts/setup.sh's).
common=(cmake ninja-build catch2 python3 redis-server libhiredis-dev libssl-dev openssl
        ca-certificates)

usage() { sed -n '2,21p' "$0" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1 name=$2

case "$name" in
  trixie-gcc)   suite=trixie; extra=(g++-14 libboost1.88-dev libboost-json1.88-dev) ;;
  trixie-clang) suite=trixie; extra=(clang-19 libclang-rt-19-dev g++-14 libboost1.83-dev
                                     libboost-json1.83-dev) ;;
  sid-gcc)      suite=sid;    extra=(g++ BOOST-NEWEST) ;;   # resolved after the base system
  *) echo "chroot: unknown system $name" >&2; usage ;;
esac

root="$cache/$name"
marker="$root/.jobrunner-ready"

# apt in the chroot; unstable's Release files may be past their Valid-Until
# on the mirror, so that check is off (the signatures are still checked).
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
              LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
apt_in() { in_root apt-get -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false \
             -o Dpkg::Use-Pty=0 -qq "$@"; }

# Runs "$@" with /proc, /sys, /dev and the source mounted in the system, in a
# mount namespace of its own.
with_mounts() {
  unshare --mount --propagation private -- /usr/bin/env bash -euc '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mkdir -p "$root/src"
    mount --bind "$PWD" "$root/src"
    "$@"' with_mounts "$root" "$@"
}

bootstrap() {
  if [ -f "$marker" ]; then
    echo "chroot: $name is cached in $root"
    return
  fi
  local start; start=$(date +%s)
  if [ -e "$root" ]; then
    echo "chroot: $root has no marker (an interrupted bootstrap): removing it"
    rm -rf --one-file-system "$root"
  fi
  mkdir -p "$cache"
  command -v debootstrap >/dev/null || { echo "chroot: debootstrap is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  echo "chroot: debootstrap $suite into $root from $mirror"
  debootstrap --variant=minbase "$suite" "$root" "$mirror"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # No service starts in the system (redis-server's package would start one).
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  local pkgs=() p
  with_mounts bash -c "$(declare -f in_root apt_in); root='$root'; apt_in update"
  for p in "${extra[@]}"; do
    if [ "$p" = BOOST-NEWEST ]; then
      local v
      v=$(in_root apt-cache search --names-only '^libboost1\.[0-9]+-dev$' | cut -d' ' -f1 |
          sed 's/^libboost\(.*\)-dev$/\1/' | sort -V | tail -1)
      [ -n "$v" ] || { echo "chroot: no libboost1.NN-dev in $suite" >&2; exit 1; }
      echo "chroot: the newest Boost of $suite is $v"
      pkgs+=("libboost$v-dev" "libboost-json$v-dev")
    else
      pkgs+=("$p")
    fi
  done
  pkgs+=("${common[@]}")
  with_mounts bash -c "$(declare -f in_root apt_in); root='$root'; apt_in install ${pkgs[*]}"
  in_root apt-get clean
  printf '%s\n' "${pkgs[@]}" > "$marker"   # last: the system is complete
  echo "chroot: $name bootstrapped in $(( $(date +%s) - start )) s"
}

case "$cmd" in
  bootstrap) bootstrap ;;
  shell) bootstrap; with_mounts chroot "$root" /usr/bin/env TERM="${TERM:-dumb}" bash ;;
  test)
    bootstrap
    start=$(date +%s)
    echo "chroot: $name: $(chroot "$root" sh -c 'head -1 /etc/debian_version; dpkg-query -W -f "\${Package} \${Version}\n" '"$(sed 's/^/"/; s/$/"/' "$marker" | grep -E 'boost1|g\+\+|clang-' | tr '\n' ' ')")"
    with_mounts chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LANG=C.UTF-8 JOBS="$jobs" TEST_JOBS="$test_jobs" PRESET="$name" bash -euc '
        cd /src
        cmake --preset "$PRESET"
        cmake --build --preset "$PRESET" -j "$JOBS"
        ctest --preset "$PRESET" -j "$TEST_JOBS"'
    echo "chroot: $name: build and tests in $(( $(date +%s) - start )) s"
    ;;
  *) usage ;;
esac
