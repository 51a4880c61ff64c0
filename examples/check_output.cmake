# cmake -DEXE=<program> -DEXPECTED=<file> [-DARG_FILE=<file>] -P check_output.cmake
# Runs the program (with the first line of ARG_FILE as its one argument, when given: a value
# known only when the tests run, such as a server's address) and compares its standard output
# with the expected file, line by line, after masking durations ("123 ms" becomes "<n> ms" on
# both sides): the check is about results and their order, not about how long they took.
set(args "")
if(DEFINED ARG_FILE)
  file(STRINGS "${ARG_FILE}" args LIMIT_COUNT 1)
endif()
execute_process(COMMAND "${EXE}" ${args} OUTPUT_VARIABLE actual ERROR_VARIABLE errors
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} exited with '${rc}'\nstdout:\n${actual}\nstderr:\n${errors}")
endif()
file(READ "${EXPECTED}" expected)

foreach(text actual expected)
  string(REPLACE "\r\n" "\n" ${text} "${${text}}")
  string(REGEX REPLACE "[0-9]+(\\.[0-9]+)? ms" "<n> ms" ${text} "${${text}}")
endforeach()

if(NOT actual STREQUAL expected)
  message(FATAL_ERROR "output of ${EXE} differs from ${EXPECTED}\n"
                      "--- expected (durations masked)\n${expected}"
                      "--- actual (durations masked)\n${actual}"
                      "--- stderr\n${errors}")
endif()
message(STATUS "output matches ${EXPECTED}")
