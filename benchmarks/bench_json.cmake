# include()d by the check_*_json.cmake scripts: runs settle_bench and reads its records.

# Runs "${BENCH}" with the remaining arguments; fails unless it exits 0 and every line it
# prints is a JSON record with a "section". Sets <out> to the whole output, <lines> to its
# lines and <sections> to each line's section, in order.
function(bench_json_records out lines sections)
  execute_process(COMMAND "${BENCH}" ${ARGN} OUTPUT_VARIABLE text ERROR_VARIABLE err
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " shown "${ARGN}")
    message(FATAL_ERROR "settle_bench ${shown} exited with ${rc}\nstdout:\n${text}\nstderr:\n${err}")
  endif()
  string(REGEX REPLACE "\n$" "" text "${text}")
  string(REPLACE ";" "\\;" escaped "${text}")
  string(REPLACE "\n" ";" all "${escaped}")
  set(found "")
  foreach(line IN LISTS all)
    string(JSON section ERROR_VARIABLE json_error GET "${line}" section)
    if(json_error)
      message(FATAL_ERROR "not a JSON record: '${line}' (${json_error})")
    endif()
    list(APPEND found ${section})
  endforeach()
  set(${out} "${text}" PARENT_SCOPE)
  set(${lines} "${all}" PARENT_SCOPE)
  set(${sections} "${found}" PARENT_SCOPE)
endfunction()

# Fails unless each of the keys after <line> is a positive number in that record.
function(bench_json_positive line)
  foreach(key IN LISTS ARGN)
    string(JSON v GET "${line}" ${key})
    if(NOT v GREATER 0)
      message(FATAL_ERROR "${key} should be a positive number in: ${line}")
    endif()
  endforeach()
endfunction()
