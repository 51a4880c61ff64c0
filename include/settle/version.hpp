/// @file version.hpp
/// The version of settle, as macros (for the preprocessor) and as a constant.
#pragma once

/// The major part of the version (`find_package(settle)` accepts the same major only).
#define SETTLE_VERSION_MAJOR 0
/// The minor part of the version.
#define SETTLE_VERSION_MINOR 1
/// The patch part of the version.
#define SETTLE_VERSION_PATCH 0
/// Major * 10000 + minor * 100 + patch, for `#if SETTLE_VERSION >= ...`.
#define SETTLE_VERSION \
  (SETTLE_VERSION_MAJOR * 10000 + SETTLE_VERSION_MINOR * 100 + SETTLE_VERSION_PATCH)

namespace settle {

/// The library version as `major.minor.patch`.
inline constexpr const char* version_string = "0.1.0";

}  // namespace settle
