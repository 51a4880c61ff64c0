# Package tests: build small consumer projects (tests/package/*) against settle the three ways a
# user can consume it, with the compiler, generator and flags of this build.
#
#   settle.package.install           configure settle alone, `cmake --install` it into a prefix
#   settle.package.find_package      find_package(settle CONFIG REQUIRED) from that prefix
#   settle.package.pkg_config        compile with `pkg-config --cflags --libs settle`
#   settle.package.add_subdirectory  add_subdirectory(<settle source>), settle not top level
#   settle.package.bare_install      `-DBUILD_TESTING=OFF` looks for nothing but a compiler and
#                                    threads, uses every -D, installs, and find_package finds it
#
# Each test runs cmake/run-package-test.cmake in script mode; see there for the details.

set(_settle_pkg_work "${PROJECT_BINARY_DIR}/package-tests")
set(_settle_pkg_script "${CMAKE_CURRENT_LIST_DIR}/run-package-test.cmake")

find_program(SETTLE_PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf DOC "pkg-config, for a package test")
mark_as_advanced(SETTLE_PKG_CONFIG_EXECUTABLE)

if(CMAKE_CONFIGURATION_TYPES)
  set(_settle_pkg_config_flags "")
else()
  string(TOUPPER "${CMAKE_BUILD_TYPE}" _settle_pkg_bt)
  set(_settle_pkg_config_flags "${CMAKE_CXX_FLAGS_${_settle_pkg_bt}}")
endif()

set(_settle_pkg_args
    "-DSETTLE_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    "-DSETTLE_VERSION=${PROJECT_VERSION}"
    "-DWORK_DIR=${_settle_pkg_work}"
    "-DCTEST=${CMAKE_CTEST_COMMAND}"
    "-DGENERATOR=${CMAKE_GENERATOR}"
    "-DGENERATOR_PLATFORM=${CMAKE_GENERATOR_PLATFORM}"
    "-DGENERATOR_TOOLSET=${CMAKE_GENERATOR_TOOLSET}"
    "-DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}"
    "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
    "-DCXX_COMPILER_ID=${CMAKE_CXX_COMPILER_ID}"
    "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}"
    "-DCXX_FLAGS_CONFIG=${_settle_pkg_config_flags}"
    "-DEXE_LINKER_FLAGS=${CMAKE_EXE_LINKER_FLAGS}"
    "-DPKG_CONFIG=${SETTLE_PKG_CONFIG_EXECUTABLE}"
    "-DBUILD_TYPE=$<CONFIG>")

foreach(_mode install find_package pkg_config add_subdirectory bare_install)
  add_test(NAME settle.package.${_mode}
           COMMAND "${CMAKE_COMMAND}" ${_settle_pkg_args} "-DMODE=${_mode}" -P "${_settle_pkg_script}")
  set_tests_properties(settle.package.${_mode} PROPERTIES LABELS package TIMEOUT 900)
endforeach()

set_tests_properties(settle.package.install PROPERTIES FIXTURES_SETUP settle_package_installed)
set_tests_properties(settle.package.find_package settle.package.pkg_config
                     PROPERTIES FIXTURES_REQUIRED settle_package_installed)
# Without pkg-config (or with a compiler that does not take GCC-style flags) that test reports
# itself skipped instead of passing silently.
set_tests_properties(settle.package.pkg_config PROPERTIES SKIP_REGULAR_EXPRESSION
                                                          "settle-package-test: SKIPPED")
