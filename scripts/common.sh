# Helpers shared by scripts/test.sh and scripts/bench.sh (sourced, not run).
# shellcheck shell=bash

settle_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

settle_log() { printf '==> %s\n' "$*" >&2; }
settle_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Prints a command, then runs it.
settle_run() {
  printf '+ %s\n' "$*" >&2
  "$@"
}

settle_jobs() {
  if [[ -n "${SETTLE_JOBS:-}" ]]; then
    echo "$SETTLE_JOBS"
  else
    nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2
  fi
}

# Runs apt-get as root: directly, or through sudo when there is one.
settle_apt_get() {
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
  else
    return 1
  fi
}

# Installs the given Debian packages (apt-get update first, once per script run).
settle_apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [[ -z "${settle_apt_updated:-}" ]]; then
    settle_run settle_apt_get update -qq || return 1
    settle_apt_updated=1
  fi
  settle_run settle_apt_get install -y -qq --no-install-recommends "$@"
}

# CMake 3.21 is the first to read the version-3 CMakePresets.json the scripts configure with.
settle_check_cmake() {
  command -v cmake >/dev/null 2>&1 || settle_die "cmake was not found (CMake 3.21 or later is needed)"
  local version
  version=$(cmake --version | sed -n '1s/[^0-9]*\([0-9][0-9.]*\).*/\1/p')
  local major=${version%%.*} rest=${version#*.}
  local minor=${rest%%.*}
  if ((major < 3 || (major == 3 && minor < 21))); then
    settle_die "CMake $version is too old for CMakePresets.json: 3.21 or later is needed"
  fi
}

# Configures `build_dir` with `preset`, plus any extra cmake arguments. Ninja is used for a new
# build directory when it is installed (and CMAKE_GENERATOR does not say otherwise); an existing
# build directory keeps the generator it was made with. CXX, when set, replaces the preset's
# compiler.
settle_configure() {
  local preset=$1 build_dir=$2
  shift 2
  local args=(--preset "$preset" -B "$build_dir")
  if [[ ! -f "$build_dir/CMakeCache.txt" && -z "${CMAKE_GENERATOR:-}" ]] &&
    command -v ninja >/dev/null 2>&1; then
    args+=(-G Ninja)
  fi
  if [[ -n "${CXX:-}" ]]; then
    args+=("-DCMAKE_CXX_COMPILER=$CXX")
  fi
  (cd "$settle_root" && settle_run cmake "${args[@]}" "$@")
}
