#!/usr/bin/env bash
# Builds the benchmark in Release (-O2) and runs it; arguments go to settle_bench.
#
#   scripts/bench.sh                 # the full tables
#   scripts/bench.sh --quick --json  # see scripts/bench.sh --help
#
# Environment:
#   CXX               a C++ compiler to use instead of g++
#   SETTLE_BUILD_DIR  build directory (default: build/bench in the source tree)
#   SETTLE_JOBS       parallel build jobs (default: the number of CPUs)
#
# Needs no test framework: the bench preset builds the benchmarks only.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

build_dir=${SETTLE_BUILD_DIR:-$settle_root/build/bench}
jobs=$(settle_jobs)

settle_check_cmake

settle_log "configure: preset bench into $build_dir"
settle_configure bench "$build_dir" >&2  # stdout is for the benchmark (--json)

settle_log "build: settle_bench"
settle_run cmake --build "$build_dir" --target settle_bench --parallel "$jobs" >&2

bench="$build_dir/benchmarks/settle_bench"
[[ -x "$bench" ]] || settle_die "$bench was not built"
settle_log "run: settle_bench $*"
exec "$bench" "$@"
