#!/usr/bin/env bash
# Formats the C++ sources (include/ tests/ examples/ benchmarks/) in place with clang-format 19,
# or with --check only reports the files that are not formatted (exit 1), as CI does.
#
#   scripts/format.sh [--check]
#
# Environment: CLANG_FORMAT  the clang-format to use (default clang-format-19, installed with
# apt-get when missing). The version is pinned because each release formats a little differently,
# and clang-format 14 and earlier misread C++20 requires-clauses.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) settle_die "usage: scripts/format.sh [--check]" ;;
esac

clang_format=${CLANG_FORMAT:-clang-format-19}
if ! command -v "$clang_format" >/dev/null 2>&1; then
  if [[ -n "${CLANG_FORMAT:-}" ]]; then
    settle_die "$clang_format was not found"
  fi
  settle_log "$clang_format was not found: installing the $clang_format package"
  settle_apt_install "$clang_format" || settle_die "could not install $clang_format"
fi
settle_log "$("$clang_format" --version)"

cd "$settle_root"
dirs=(include tests examples benchmarks)
files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked files and new ones that are not ignored.
  while IFS= read -r -d '' f; do
    [[ -f "$f" ]] && files+=("$f")
  done < <(git ls-files -z --cached --others --exclude-standard -- "${dirs[@]}" |
    grep -zE '\.(hpp|cpp|h|cc|ipp)$' | sort -zu)
else
  while IFS= read -r -d '' f; do
    files+=("$f")
  done < <(find "${dirs[@]}" -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \
    -o -name '*.cc' -o -name '*.ipp' \) -print0 2>/dev/null | sort -z)
fi
((${#files[@]} > 0)) || settle_die "no C++ source found under ${dirs[*]}"

if ((check)); then
  settle_log "checking ${#files[@]} files"
  "$clang_format" --dry-run --Werror "${files[@]}"
  settle_log "all ${#files[@]} files are formatted"
else
  settle_log "formatting ${#files[@]} files"
  "$clang_format" -i "${files[@]}"
fi
