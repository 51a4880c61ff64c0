# Runs one package test (see package-tests.cmake); CTest calls it as
#   cmake -DMODE=<install|find_package|pkg_config|add_subdirectory|bare_install> -D... -P run-package-test.cmake
#
# Every consumer is configured from scratch (its build directory is deleted first) with the
# compiler, generator, build type and flags of the build that registered the test, so a stale
# cache can never hide a broken package. The consumer programs return nonzero when settle does
# not behave; their CMake projects register that program as their own CTest test.

cmake_minimum_required(VERSION 3.15)

foreach(_required MODE SETTLE_SOURCE_DIR SETTLE_VERSION WORK_DIR CTEST GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${_required} OR "${${_required}}" STREQUAL "")
    message(FATAL_ERROR "run-package-test.cmake: -D${_required}=... is required")
  endif()
endforeach()

set(_prefix "${WORK_DIR}/prefix")
set(_consumers "${SETTLE_SOURCE_DIR}/tests/package")

# Runs a command, echoing it first; any failure fails the test.
function(settle_run)
  string(REPLACE ";" " " _shown "${ARGN}")
  message(STATUS "settle-package-test: ${_shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "settle-package-test: command failed (${_rc}): ${_shown}")
  endif()
endfunction()

# The options that make a CMake project build the way the registering build does.
set(_cmake_args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
                "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
if(GENERATOR_PLATFORM)
  list(APPEND _cmake_args -A "${GENERATOR_PLATFORM}")
endif()
if(GENERATOR_TOOLSET)
  list(APPEND _cmake_args -T "${GENERATOR_TOOLSET}")
endif()
if(MAKE_PROGRAM)
  list(APPEND _cmake_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
set(_config_args "")
if(BUILD_TYPE)
  string(TOUPPER "${BUILD_TYPE}" _bt)
  list(APPEND _cmake_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
  if(NOT "${CXX_FLAGS_CONFIG}" STREQUAL "")
    list(APPEND _cmake_args "-DCMAKE_CXX_FLAGS_${_bt}=${CXX_FLAGS_CONFIG}")
  endif()
  set(_config_args -C "${BUILD_TYPE}")
endif()

# Configures, builds and runs (through its own CTest test) the consumer project in `source`.
function(settle_build_consumer source binary)
  file(REMOVE_RECURSE "${binary}")
  settle_run("${CMAKE_COMMAND}" -S "${source}" -B "${binary}" ${_cmake_args} ${ARGN})
  if(BUILD_TYPE)
    settle_run("${CMAKE_COMMAND}" --build "${binary}" --config "${BUILD_TYPE}")
  else()
    settle_run("${CMAKE_COMMAND}" --build "${binary}")
  endif()
  execute_process(COMMAND "${CTEST}" ${_config_args} --output-on-failure --no-tests=error
                  WORKING_DIRECTORY "${binary}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "settle-package-test: the consumer in ${source} failed its run (${_rc})")
  endif()
endfunction()

# Reads the value of `name` from a CMakeCache.txt (script mode has no load_cache()).
function(settle_cache_value binary name out)
  file(STRINGS "${binary}/CMakeCache.txt" _lines REGEX "^${name}:[A-Z]+=")
  string(REGEX REPLACE "^${name}:[A-Z]+=" "" _value "${_lines}")
  set(${out} "${_value}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "install")
  # A user's install: settle on its own (tests, examples, benchmarks off), then --install.
  set(_build "${WORK_DIR}/settle-build")
  file(REMOVE_RECURSE "${_build}" "${_prefix}")
  settle_run("${CMAKE_COMMAND}" -S "${SETTLE_SOURCE_DIR}" -B "${_build}" ${_cmake_args}
             -DSETTLE_BUILD_TESTS=OFF -DSETTLE_BUILD_EXAMPLES=OFF -DSETTLE_BUILD_BENCHMARKS=OFF)
  if(BUILD_TYPE)
    settle_run("${CMAKE_COMMAND}" --install "${_build}" --prefix "${_prefix}" --config "${BUILD_TYPE}")
  else()
    settle_run("${CMAKE_COMMAND}" --install "${_build}" --prefix "${_prefix}")
  endif()

  # Every header of the source tree is installed, and the package files are where find_package
  # and pkg-config look.
  file(GLOB_RECURSE _headers RELATIVE "${SETTLE_SOURCE_DIR}/include" "${SETTLE_SOURCE_DIR}/include/*")
  if(NOT _headers)
    message(FATAL_ERROR "settle-package-test: no header found under ${SETTLE_SOURCE_DIR}/include")
  endif()
  set(_expected "")
  foreach(_h IN LISTS _headers)
    list(APPEND _expected "include/${_h}")
  endforeach()
  list(APPEND _expected share/cmake/settle/settleConfig.cmake
       share/cmake/settle/settleConfigVersion.cmake share/cmake/settle/settleTargets.cmake
       share/pkgconfig/settle.pc)
  foreach(_f IN LISTS _expected)
    if(NOT EXISTS "${_prefix}/${_f}")
      message(FATAL_ERROR "settle-package-test: ${_f} was not installed into ${_prefix}")
    endif()
  endforeach()
  list(LENGTH _expected _n)
  message(STATUS "settle-package-test: ${_n} files installed into ${_prefix}")

elseif(MODE STREQUAL "bare_install")
  # The newcomer's install, `cmake -S . -B build -DBUILD_TESTING=OFF && cmake --install build`:
  # the configure must look for nothing but a compiler and threads (no test framework, no
  # benchmark peer, no documentation tool), use every variable it was given, and install a
  # package that find_package() consumes.
  set(_build "${WORK_DIR}/bare-build")
  set(_bare_prefix "${WORK_DIR}/bare-prefix")
  file(REMOVE_RECURSE "${_build}" "${_bare_prefix}")
  set(_debug_find "")
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.17)
    set(_debug_find --debug-find)
  endif()
  set(_configure "${CMAKE_COMMAND}" -S "${SETTLE_SOURCE_DIR}" -B "${_build}" ${_cmake_args}
                 -DBUILD_TESTING=OFF ${_debug_find})
  string(REPLACE ";" " " _shown "${_configure}")
  message(STATUS "settle-package-test: ${_shown}")
  execute_process(COMMAND ${_configure} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  set(_log "${_out}\n${_err}")
  file(WRITE "${WORK_DIR}/bare-configure.log" "${_log}")
  if(NOT _rc EQUAL 0)
    message("${_log}")
    message(FATAL_ERROR "settle-package-test: the configure failed (${_rc})")
  endif()
  # Problems are collected as text (not a list: the log holds semicolons and brackets).
  set(_problems "")

  if(_log MATCHES "Manually-specified variables were not used")
    string(APPEND _problems "\n  a variable given on the command line was not used (see the warning)")
  endif()

  # Every find_* call shows up as a "CMake Debug Log at <file>:<line> (<command>):" block. Calls
  # made by CMake's own modules (compiler detection, FindThreads' internals) are fine; a call
  # made by any other file must be the library's find_package(Threads).
  if(_debug_find)
    set(_marker "CMake Debug Log at ")
    string(LENGTH "${_marker}" _marker_length)
    set(_threads_seen FALSE)
    set(_rest "${_log}")
    string(FIND "${_rest}" "${_marker}" _pos)
    while(NOT _pos EQUAL -1)
      math(EXPR _pos "${_pos} + ${_marker_length}")
      string(SUBSTRING "${_rest}" ${_pos} -1 _rest)
      string(FIND "${_rest}" "${_marker}" _pos)
      string(SUBSTRING "${_rest}" 0 ${_pos} _block)
      string(REGEX MATCH "^[^\n]*" _where "${_block}")
      string(FIND "${_where}" "${CMAKE_ROOT}/" _in_cmake_root)
      if(_in_cmake_root EQUAL 0)
        continue()
      endif()
      if(_where MATCHES "\\(find_package\\):$" AND _block MATCHES "Threads")
        set(_threads_seen TRUE)
      else()
        # The header and the next lines name the call: "VAR: ... NAMES: ..." or the package.
        string(REGEX MATCH "^[^\n]*\n[^\n]*\n[^\n]*\n[^\n]*\n[^\n]*" _what "${_block}")
        string(REGEX REPLACE "[\n ]+" " " _what "${_what}")
        string(APPEND _problems "\n  a lookup at ${_what}")
      endif()
    endwhile()
    if(NOT _threads_seen)
      # The library's own find_package(Threads) must be seen, or the check above saw nothing.
      string(APPEND _problems "\n  --debug-find did not report the library's find_package(Threads)")
    endif()
  endif()

  # What the cache remembers of lookups: a found package's details, a <Package>_DIR, a NOTFOUND
  # (CMake's own CMAKE_* tool lookups aside: CMAKE_DLLTOOL is NOTFOUND off Windows).
  file(STRINGS "${_build}/CMakeCache.txt" _cache REGEX "^[^#/].*=")
  foreach(_entry IN LISTS _cache)
    if(_entry MATCHES "^CMAKE_")
      continue()
    elseif(_entry MATCHES "^FIND_PACKAGE_MESSAGE_DETAILS_([^:]+):" AND NOT CMAKE_MATCH_1 STREQUAL "Threads")
      string(APPEND _problems "\n  the cache says package ${CMAKE_MATCH_1} was looked for")
    elseif(_entry MATCHES "^[A-Za-z0-9_.+-]+_DIR:PATH=")
      string(APPEND _problems "\n  the cache holds a package location: ${_entry}")
    elseif(_entry MATCHES "-NOTFOUND$")
      string(APPEND _problems "\n  the cache holds a failed lookup: ${_entry}")
    endif()
  endforeach()
  foreach(_opt SETTLE_BUILD_TESTS SETTLE_BUILD_EXAMPLES SETTLE_BUILD_BENCHMARKS SETTLE_BUILD_DOCS)
    settle_cache_value("${_build}" ${_opt} _value)
    if(_value)
      string(APPEND _problems "\n  ${_opt} is '${_value}' after -DBUILD_TESTING=OFF")
    endif()
  endforeach()

  # (Not if(_problems): a text that ends in -NOTFOUND is false.)
  if(NOT _problems STREQUAL "")
    message("${_log}")
    message(FATAL_ERROR "settle-package-test: the configure with -DBUILD_TESTING=OFF asked for "
                        "more than a compiler and threads (log: ${WORK_DIR}/bare-configure.log):"
                        "${_problems}")
  endif()
  message(STATUS "settle-package-test: the configure looked for a compiler and threads only")

  if(BUILD_TYPE)
    settle_run("${CMAKE_COMMAND}" --install "${_build}" --prefix "${_bare_prefix}" --config "${BUILD_TYPE}")
  else()
    settle_run("${CMAKE_COMMAND}" --install "${_build}" --prefix "${_bare_prefix}")
  endif()
  set(_bin "${WORK_DIR}/bare-find_package")
  settle_build_consumer(
    "${_consumers}/find_package" "${_bin}" "-DCMAKE_PREFIX_PATH=${_bare_prefix}"
    "-DSETTLE_EXPECTED_VERSION=${SETTLE_VERSION}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
  settle_cache_value("${_bin}" settle_DIR _found)
  get_filename_component(_found "${_found}" REALPATH)
  get_filename_component(_want "${_bare_prefix}/share/cmake/settle" REALPATH)
  if(NOT _found STREQUAL _want)
    message(FATAL_ERROR "settle-package-test: found settle in '${_found}', expected '${_want}'")
  endif()

elseif(MODE STREQUAL "find_package")
  set(_bin "${WORK_DIR}/find_package")
  settle_build_consumer(
    "${_consumers}/find_package" "${_bin}" "-DCMAKE_PREFIX_PATH=${_prefix}"
    "-DSETTLE_EXPECTED_VERSION=${SETTLE_VERSION}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
  # The package that was found must be the one just installed, not one from the system.
  settle_cache_value("${_bin}" settle_DIR _found)
  get_filename_component(_found "${_found}" REALPATH)
  get_filename_component(_want "${_prefix}/share/cmake/settle" REALPATH)
  if(NOT _found STREQUAL _want)
    message(FATAL_ERROR "settle-package-test: found settle in '${_found}', expected '${_want}'")
  endif()

elseif(MODE STREQUAL "add_subdirectory")
  set(_bin "${WORK_DIR}/add_subdirectory")
  settle_build_consumer("${_consumers}/add_subdirectory" "${_bin}"
                        "-DSETTLE_SOURCE_DIR=${SETTLE_SOURCE_DIR}")
  # Not the top-level project: settle's own tests, examples and benchmarks stay off, although
  # the consumer's include(CTest) set BUILD_TESTING=ON.
  settle_cache_value("${_bin}" BUILD_TESTING _value)
  if(NOT _value)
    message(FATAL_ERROR "settle-package-test: the consumer's BUILD_TESTING is '${_value}', not ON")
  endif()
  foreach(_opt SETTLE_BUILD_TESTS SETTLE_BUILD_EXAMPLES SETTLE_BUILD_BENCHMARKS SETTLE_BUILD_DOCS)
    settle_cache_value("${_bin}" ${_opt} _value)
    if(_value)
      message(FATAL_ERROR "settle-package-test: ${_opt} is '${_value}' in a consumer build")
    endif()
  endforeach()

elseif(MODE STREQUAL "pkg_config")
  if(NOT PKG_CONFIG OR NOT EXISTS "${PKG_CONFIG}")
    message(STATUS "settle-package-test: SKIPPED: pkg-config was not found")
    return()
  endif()
  if(NOT CXX_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang|IntelLLVM)$")
    message(STATUS "settle-package-test: SKIPPED: ${CXX_COMPILER_ID} does not take GCC-style flags")
    return()
  endif()
  set(ENV{PKG_CONFIG_PATH} "${_prefix}/share/pkgconfig")
  unset(ENV{PKG_CONFIG_SYSROOT_DIR})

  foreach(_query modversion cflags libs)
    execute_process(COMMAND "${PKG_CONFIG}" --${_query} settle OUTPUT_VARIABLE _pc_${_query}
                    OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "settle-package-test: pkg-config --${_query} settle failed")
    endif()
    message(STATUS "settle-package-test: pkg-config --${_query} settle: ${_pc_${_query}}")
  endforeach()
  if(NOT _pc_modversion STREQUAL SETTLE_VERSION)
    message(FATAL_ERROR "settle-package-test: settle.pc says ${_pc_modversion}, expected ${SETTLE_VERSION}")
  endif()
  separate_arguments(_cflags UNIX_COMMAND "${_pc_cflags}")
  separate_arguments(_libs UNIX_COMMAND "${_pc_libs}")
  # The include directory must be the installed one.
  set(_include_ok FALSE)
  foreach(_flag IN LISTS _cflags)
    # (Two ifs: ${CMAKE_MATCH_1} is expanded before the MATCHES of the same if() runs.)
    if(_flag MATCHES "^-I(.+)$")
      get_filename_component(_inc "${CMAKE_MATCH_1}" REALPATH)
      get_filename_component(_want "${_prefix}/include" REALPATH)
      if(_inc STREQUAL _want AND EXISTS "${_inc}/settle/settle.hpp")
        set(_include_ok TRUE)
      endif()
    endif()
  endforeach()
  if(NOT _include_ok)
    message(FATAL_ERROR "settle-package-test: '${_pc_cflags}' does not point at ${_prefix}/include")
  endif()

  separate_arguments(_flags UNIX_COMMAND "${CXX_FLAGS} ${CXX_FLAGS_CONFIG}")
  separate_arguments(_ldflags UNIX_COMMAND "${EXE_LINKER_FLAGS}")
  set(_bin "${WORK_DIR}/pkg_config")
  file(REMOVE_RECURSE "${_bin}")
  file(MAKE_DIRECTORY "${_bin}")
  # settle.pc leaves the language standard to the user, as pkg-config files do.
  settle_run("${CXX_COMPILER}" ${_flags} -std=c++20 ${_cflags} "${_consumers}/pkg_config/main.cpp"
             -o "${_bin}/app" ${_ldflags} ${_libs})
  settle_run("${_bin}/app")

else()
  message(FATAL_ERROR "run-package-test.cmake: unknown MODE '${MODE}'")
endif()
