# Run by CTest: builds TARGET in BUILD_DIR and succeeds only when the build fails with a
# diagnostic matching every `// expect: <regex>` line of SOURCE, and every
# `// expect-<COMPILER_ID>: <regex>` line for the compiler in use (GNU, Clang, ...).
# With WITHIN_LINES=<n>, each must match within the first n lines of the compiler's output
# (from its first line about SOURCE, or its first `In file included from`), where a reader
# looks first; a `// expect-within-lines: <n>` line of SOURCE sets another n for it.
#   cmake -DBUILD_DIR=... -DTARGET=... -DCONFIG=... -DSOURCE=... -DCOMPILER_ID=...
#         [-DWITHIN_LINES=10] -P expect_failure.cmake

foreach(var BUILD_DIR TARGET SOURCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "expect_failure.cmake: ${var} is not set")
  endif()
endforeach()

file(STRINGS "${SOURCE}" expect_lines REGEX "^// expect(-${COMPILER_ID})?: ")
if(NOT expect_lines)
  message(FATAL_ERROR "${SOURCE} has no `// expect: <regex>` line for ${COMPILER_ID}")
endif()

set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}" ${config_args}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but this misuse must not compile.")
endif()
if(NOT output MATCHES "error:")
  message(FATAL_ERROR "Building ${TARGET} failed without a compiler error:\n${output}")
endif()
file(STRINGS "${SOURCE}" within_line REGEX "^// expect-within-lines: [0-9]+$")
if(within_line)
  string(REGEX REPLACE "^// expect-within-lines: " "" WITHIN_LINES "${within_line}")
endif()
set(searched "${output}")
set(where "the diagnostic")
if(WITHIN_LINES)
  # The build tool's own lines come first (the target being built, the command): skip them.
  # Worked on as a string, not a list: compiler output is full of semicolons.
  string(FIND "\n${output}" "\n${SOURCE}" start)
  string(FIND "\n${output}" "\nIn file included from " included)
  if(start EQUAL -1 OR (NOT included EQUAL -1 AND included LESS start))
    set(start ${included})
  endif()
  if(start EQUAL -1)
    message(FATAL_ERROR "Building ${TARGET} failed, but no line of the output is about ${SOURCE}:\n"
                        "${output}")
  endif()
  string(SUBSTRING "${output}" ${start} -1 rest)
  set(searched "")
  foreach(i RANGE 1 ${WITHIN_LINES})
    string(FIND "${rest}" "\n" newline)
    if(newline EQUAL -1)
      string(APPEND searched "${rest}")
      break()
    endif()
    math(EXPR line_end "${newline} + 1")
    string(SUBSTRING "${rest}" 0 ${line_end} line)
    string(APPEND searched "${line}")
    string(SUBSTRING "${rest}" ${line_end} -1 rest)
  endforeach()
  set(where "the diagnostic, in its first ${WITHIN_LINES} lines,")
endif()

foreach(line IN LISTS expect_lines)
  string(REGEX REPLACE "^// expect(-${COMPILER_ID})?: " "" regex "${line}")
  if(NOT searched MATCHES "${regex}")
    message(FATAL_ERROR
      "${SOURCE} failed to compile as it should, but ${where} does not match "
      "`${regex}`:\n${output}")
  endif()
  message(STATUS "${where} matches `${regex}`")
endforeach()
