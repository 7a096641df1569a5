#!/bin/sh
# A consumer built with nothing but pkg-config and the compiler, against the
# installed package: fails unless jobrunner.pc gives the include path.
# Usage: build_and_run.sh CXX PREFIX CONSUMER_CPP OUT_DIR
set -eu
cxx=$1 prefix=$2 src=$3 out=$4
export PKG_CONFIG_PATH="$prefix/share/pkgconfig"
cflags=$(pkg-config --cflags jobrunner)
libs=$(pkg-config --libs jobrunner)
echo "pkg-config: jobrunner $(pkg-config --modversion jobrunner): cflags $cflags, libs $libs"
mkdir -p "$out"
# shellcheck disable=SC2086 # the flags are words
"$cxx" -std=c++20 $cflags "$src" -o "$out/consumer" $libs
"$out/consumer"
echo "pkg-config consumer: ok"
