# Run by CTest: builds TARGET in BUILD_DIR and succeeds only when the build fails with a
# diagnostic matching every `// expect: <regex>` line of SOURCE, and every
# `// expect-<COMPILER_ID>: <regex>` line for the compiler in use (GNU, Clang, ...).
#   cmake -DBUILD_DIR=... -DTARGET=... -DCONFIG=... -DSOURCE=... -DCOMPILER_ID=... -P expect_failure.cmake

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
foreach(line IN LISTS expect_lines)
  string(REGEX REPLACE "^// expect(-${COMPILER_ID})?: " "" regex "${line}")
  if(NOT output MATCHES "${regex}")
    message(FATAL_ERROR
      "${SOURCE} failed to compile as it should, but the diagnostic does not match "
      "`${regex}`:\n${output}")
  endif()
  message(STATUS "diagnostic matches `${regex}`")
endforeach()
