# cmake -DBENCH=<settle_bench> -DIO=<http|postgres> [-DCONNINFO_FILE=<file>] -P check_real_io_json.cmake
# Runs `settle_bench --io IO --quick --latency-ms 50 --json` (with --pg read from CONNINFO_FILE,
# which scripts/postgres.sh start writes) and checks: exit code 0, one well-formed record per
# line, a machine record and the two --quick I/O rows, each saying which I/O it measured, and in
# each row parallel below 60% of sequential: the margin of the one timing test of the unit
# tests, generous for 3 and 5 operations whose ideal is 33% and 20%. 50 ms rather than --quick's
# 10 ms keeps connection setup from dominating on a loaded machine.
cmake_minimum_required(VERSION 3.19)  # string(JSON)

include(${CMAKE_CURRENT_LIST_DIR}/bench_json.cmake)

set(args --io "${IO}" --quick --latency-ms 50 --json)
if(DEFINED CONNINFO_FILE)
  file(STRINGS "${CONNINFO_FILE}" conninfo LIMIT_COUNT 1)
  list(APPEND args --pg "${conninfo}")
endif()
bench_json_records(out lines sections ${args})
set(io_rows 0)
set(machine 0)
foreach(line section IN ZIP_LISTS lines sections)
  if(section STREQUAL "machine")
    math(EXPR machine "${machine} + 1")
    continue()
  endif()
  if(NOT section STREQUAL "io")
    message(FATAL_ERROR "--io ${IO} should print only machine and io records, got: ${line}")
  endif()
  math(EXPR io_rows "${io_rows} + 1")
  string(JSON io GET "${line}" io)
  if(NOT io STREQUAL IO)
    message(FATAL_ERROR "expected \"io\":\"${IO}\" in: ${line}")
  endif()
  bench_json_positive("${line}" ops sequential_ms parallel_ms speedup)
  string(JSON seq GET "${line}" sequential_ms)
  string(JSON par GET "${line}" parallel_ms)
  # math() knows integers only: whole milliseconds, parallel rounded up, sequential down.
  string(REGEX REPLACE "\\..*" "" seq_ms "${seq}")
  string(REGEX REPLACE "\\..*" "" par_ms "${par}")
  math(EXPR lhs "(${par_ms} + 1) * 10")
  math(EXPR rhs "${seq_ms} * 6")
  if(NOT lhs LESS rhs)
    message(FATAL_ERROR "parallel (${par} ms) is not below 60% of sequential (${seq} ms): ${line}")
  endif()
endforeach()

if(NOT machine EQUAL 1 OR NOT io_rows EQUAL 2)
  message(FATAL_ERROR "expected 1 machine record and 2 io rows (--quick: ops 3,5), got "
                      "${machine} and ${io_rows}:\n${out}")
endif()
message(STATUS "settle_bench --io ${IO}: 2 rows, parallel below 60% of sequential in each")
