#!/usr/bin/env bash
# Builds settle with its tests, examples and benchmarks, and runs every test with CTest.
#
#   scripts/test.sh [extra ctest arguments, e.g. -L unit or -R settled]
#
# Environment:
#   SETTLE_PRESET     configure preset from CMakePresets.json (default: dev = Debug, g++,
#                     -Wall -Wextra -Wpedantic -Werror); also clang, release, asan, tsan
#   CXX               a C++ compiler to use instead of the preset's
#   SETTLE_BUILD_DIR  build directory (default: build/<preset> in the source tree)
#   SETTLE_JOBS       parallel build and test jobs (default: the number of CPUs)
#   SETTLE_REQUIRE_POSTGRES=1  configure with -DSETTLE_REQUIRE_POSTGRES=ON: without libpq and
#                     the PostgreSQL server programs the configure step fails, instead of the
#                     PostgreSQL example and benchmark rows being left out (CI sets it)
#
# Catch2 is installed with apt-get (as root, or through sudo) when CMake cannot find it.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

preset=${SETTLE_PRESET:-dev}
build_dir=${SETTLE_BUILD_DIR:-$settle_root/build/$preset}
jobs=$(settle_jobs)

settle_check_cmake

# Is there a Catch2 that find_package(Catch2) finds (v2, e.g. Debian's catch2, or v3)?
have_catch2() {
  local probe rc=0
  probe=$(mktemp -d)
  cat >"$probe/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.14)
project(settle_catch2_probe NONE)
find_package(Catch2 QUIET)
if(NOT Catch2_FOUND)
  message(FATAL_ERROR "Catch2 not found")
endif()
CMAKE
  cmake -S "$probe" -B "$probe/build" >/dev/null 2>&1 || rc=$?
  rm -rf "$probe"
  return "$rc"
}

if ! have_catch2; then
  settle_log "Catch2 was not found: installing the catch2 package"
  settle_apt_install catch2 ||
    settle_die "could not install Catch2; install it (Debian/Ubuntu: apt-get install catch2) and retry"
fi

# The sanitizer runtimes' options, unless the caller chose their own.
case "$preset" in
  tsan)
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$settle_root/scripts/tsan.supp}
    settle_log "TSAN_OPTIONS=$TSAN_OPTIONS"
    ;;
  asan)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    settle_log "ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"
    ;;
esac

settle_log "configure: preset $preset into $build_dir"
postgres_args=()
if [[ ${SETTLE_REQUIRE_POSTGRES:-} == 1 ]]; then
  postgres_args=(-DSETTLE_REQUIRE_POSTGRES=ON)
fi
settle_configure "$preset" "$build_dir" "${postgres_args[@]}"

settle_log "build: $jobs jobs"
settle_run cmake --build "$build_dir" --parallel "$jobs"

# GCC 12's ThreadSanitizer runtime aborts with "unexpected memory mapping" when the kernel
# randomizes mmap with more than 28 bits (newer kernels may); the tests do not need ASLR, so
# run them without it there.
runner=()
if [[ $preset == tsan ]]; then
  rnd_bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
  if ((rnd_bits > 28)) && setarch "$(uname -m)" -R true 2>/dev/null; then
    settle_log "vm.mmap_rnd_bits=$rnd_bits: running the tests without ASLR (setarch -R)"
    runner=(setarch "$(uname -m)" -R)
  fi
fi

settle_log "test"
cd "$build_dir"
settle_run "${runner[@]}" ctest --output-on-failure --no-tests=error --parallel "$jobs" "$@"
