# cmake -DEXE=<program> -DEXPECTED=<file> -P check_output.cmake
# Runs the program and compares its standard output with the expected file, line by
# line, after masking durations ("123 ms" becomes "<n> ms" on both sides): the check
# is about results and their order, not about how long they took.
execute_process(COMMAND "${EXE}" OUTPUT_VARIABLE actual ERROR_VARIABLE errors
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
