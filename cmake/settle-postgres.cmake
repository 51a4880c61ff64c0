# PostgreSQL for the programs that talk to a real server (examples/dashboard_postgres,
# settle_bench --io postgres): libpq to build them, and the server's own programs (initdb,
# pg_ctl) for scripts/postgres.sh, which CTest runs as a fixture around their tests.
#
# Included by examples/ and benchmarks/; an imported target is visible only in the directory
# that found it, so each includer finds libpq again (from the cache: cheap). Sets
#   SETTLE_LIBPQ_TARGET      a target to link against libpq, or "" when libpq was not found
#   SETTLE_POSTGRES_SERVER   TRUE when initdb was found, so the fixture can start a server
# and defines settle_postgres_fixture(), which registers the fixture's two tests once.
#
# Without libpq the programs are not built; with SETTLE_REQUIRE_POSTGRES=ON (CI) a missing
# libpq or server is a configure error instead, so a skip can never pass for a success.

option(SETTLE_REQUIRE_POSTGRES
       "Fail to configure when libpq or the PostgreSQL server programs are missing" OFF)

set(SETTLE_LIBPQ_TARGET "")
# Before CMake 3.20, FindPostgreSQL also wants the server headers; pkg-config does not.
find_package(PostgreSQL QUIET)
if(PostgreSQL_FOUND AND TARGET PostgreSQL::PostgreSQL)
  set(SETTLE_LIBPQ_TARGET PostgreSQL::PostgreSQL)
else()
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(SETTLE_LIBPQ QUIET IMPORTED_TARGET libpq)
    if(SETTLE_LIBPQ_FOUND)
      set(SETTLE_LIBPQ_TARGET PkgConfig::SETTLE_LIBPQ)
    endif()
  endif()
endif()

# Debian keeps the server programs off PATH, under /usr/lib/postgresql/<major>/bin;
# scripts/postgres.sh looks in the same places.
file(GLOB _settle_pg_bin_dirs LIST_DIRECTORIES true /usr/lib/postgresql/*/bin)
list(SORT _settle_pg_bin_dirs COMPARE NATURAL ORDER DESCENDING)
find_program(SETTLE_INITDB initdb HINTS ${_settle_pg_bin_dirs})
find_program(SETTLE_BASH bash)
if(SETTLE_INITDB AND SETTLE_BASH)
  set(SETTLE_POSTGRES_SERVER TRUE)
else()
  set(SETTLE_POSTGRES_SERVER FALSE)
endif()

if(SETTLE_REQUIRE_POSTGRES)
  if(NOT SETTLE_LIBPQ_TARGET)
    message(FATAL_ERROR "SETTLE_REQUIRE_POSTGRES is ON but libpq was not found "
                        "(Debian/Ubuntu: apt-get install libpq-dev pkgconf)")
  endif()
  if(NOT SETTLE_POSTGRES_SERVER)
    message(FATAL_ERROR "SETTLE_REQUIRE_POSTGRES is ON but initdb (or bash) was not found "
                        "(Debian/Ubuntu: apt-get install postgresql)")
  endif()
endif()

# Where the fixture keeps its state; the tests read the connection string from here.
set(SETTLE_POSTGRES_STATE_DIR "${CMAKE_BINARY_DIR}/postgres")
set(SETTLE_POSTGRES_CONNINFO_FILE "${SETTLE_POSTGRES_STATE_DIR}/conninfo")

# Registers postgres.start and postgres.stop (fixture settle_postgres) the first time it is
# called: a test that needs a server says FIXTURES_REQUIRED settle_postgres and reads the
# connection string from SETTLE_POSTGRES_CONNINFO_FILE.
function(settle_postgres_fixture)
  get_property(_done GLOBAL PROPERTY SETTLE_POSTGRES_FIXTURE_ADDED)
  if(_done)
    return()
  endif()
  set_property(GLOBAL PROPERTY SETTLE_POSTGRES_FIXTURE_ADDED TRUE)
  foreach(_step start stop)
    add_test(NAME postgres.${_step} COMMAND "${SETTLE_BASH}"
                                            "${PROJECT_SOURCE_DIR}/scripts/postgres.sh" ${_step})
    set_tests_properties(
      postgres.${_step} PROPERTIES LABELS postgres TIMEOUT 120 ENVIRONMENT
                                   "SETTLE_PG_STATE_DIR=${SETTLE_POSTGRES_STATE_DIR}")
  endforeach()
  set_tests_properties(postgres.start PROPERTIES FIXTURES_SETUP settle_postgres)
  set_tests_properties(postgres.stop PROPERTIES FIXTURES_CLEANUP settle_postgres)
endfunction()
