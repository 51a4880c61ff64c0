# Install rules of settle: the headers, the settle::settle target with its CMake package files
# (find_package(settle CONFIG)) and a pkg-config file. Everything is architecture independent, so
# it all goes under the data directory (share/) by default.

include(CMakePackageConfigHelpers)

set(SETTLE_INSTALL_CMAKEDIR
    "${CMAKE_INSTALL_DATADIR}/cmake/settle"
    CACHE STRING "Where to install the CMake package files of settle (relative to the prefix)")
set(SETTLE_INSTALL_PKGCONFIGDIR
    "${CMAKE_INSTALL_DATADIR}/pkgconfig"
    CACHE STRING "Where to install settle.pc (relative to the prefix)")
mark_as_advanced(SETTLE_INSTALL_CMAKEDIR SETTLE_INSTALL_PKGCONFIGDIR)

set(_settle_component settle_Development)

install(
  DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  COMPONENT ${_settle_component})

install(TARGETS settle EXPORT settleTargets)

install(
  EXPORT settleTargets
  NAMESPACE settle::
  FILE settleTargets.cmake
  DESTINATION "${SETTLE_INSTALL_CMAKEDIR}"
  COMPONENT ${_settle_component})

set(_settle_package_dir "${PROJECT_BINARY_DIR}/settle-package")

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/settleConfig.cmake.in" "${_settle_package_dir}/settleConfig.cmake"
  INSTALL_DESTINATION "${SETTLE_INSTALL_CMAKEDIR}")

# A header-only library fits any architecture: ARCH_INDEPENDENT keeps a 32-bit consumer from
# rejecting a package installed by a 64-bit build.
write_basic_package_version_file(
  "${_settle_package_dir}/settleConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)

install(
  FILES "${_settle_package_dir}/settleConfig.cmake"
        "${_settle_package_dir}/settleConfigVersion.cmake"
  DESTINATION "${SETTLE_INSTALL_CMAKEDIR}"
  COMPONENT ${_settle_component})

# pkg-config: the file finds its prefix from its own location (${pcfiledir}), so the installed
# tree can be moved, and `cmake --install --prefix` works as well as CMAKE_INSTALL_PREFIX.
if(IS_ABSOLUTE "${SETTLE_INSTALL_PKGCONFIGDIR}")
  set(SETTLE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _settle_pc_up "/prefix/${SETTLE_INSTALL_PKGCONFIGDIR}" "/prefix")
  string(REGEX REPLACE "/$" "" _settle_pc_up "${_settle_pc_up}")
  set(SETTLE_PC_PREFIX "\${pcfiledir}/${_settle_pc_up}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SETTLE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SETTLE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/settle.pc.in" "${_settle_package_dir}/settle.pc" @ONLY)
install(
  FILES "${_settle_package_dir}/settle.pc"
  DESTINATION "${SETTLE_INSTALL_PKGCONFIGDIR}"
  COMPONENT ${_settle_component})
