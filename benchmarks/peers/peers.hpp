// The peers of the benchmark, one header each: every peer does exactly the
// same work per task; only the way tasks are launched and collected differs.
//
// oneTBB and Asio are optional: CMake defines SETTLE_PEERS_HAVE_TBB and
// SETTLE_PEERS_HAVE_ASIO when it finds them installed.
#ifndef SETTLE_BENCHMARKS_PEERS_PEERS_HPP
#define SETTLE_BENCHMARKS_PEERS_PEERS_HPP

#include "async_peer.hpp"
#include "naive_peer.hpp"
#include "peer.hpp"
#include "settle_peer.hpp"

#if defined(SETTLE_PEERS_HAVE_TBB)
#include "tbb_peer.hpp"
#endif
#if defined(SETTLE_PEERS_HAVE_ASIO)
#include "asio_peer.hpp"
#endif

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace peers {

/// The peers compiled into this binary, in table order.
inline std::vector<std::string> available_peers() {
  std::vector<std::string> ids{"settle-default", "settle-pool", "std-async", "naive-pool"};
#if defined(SETTLE_PEERS_HAVE_ASIO)
  ids.emplace_back("asio");
#endif
#if defined(SETTLE_PEERS_HAVE_TBB)
  ids.emplace_back("tbb");
#endif
  return ids;
}

/// A peer by id; fixed pools get `threads` threads. Null for an unknown id.
inline std::unique_ptr<peer> make_peer(std::string_view id, std::size_t threads) {
  if (id == "settle-default") return std::make_unique<settle_peer>();
  if (id == "settle-pool") return std::make_unique<settle_peer>(threads);
  if (id == "std-async") return std::make_unique<async_peer>();
  if (id == "naive-pool") return std::make_unique<naive_peer>(threads);
#if defined(SETTLE_PEERS_HAVE_ASIO)
  if (id == "asio") return std::make_unique<asio_peer>(threads);
#endif
#if defined(SETTLE_PEERS_HAVE_TBB)
  if (id == "tbb") return std::make_unique<tbb_peer>();
#endif
  return nullptr;
}

/// Versions of the optional peers, for the report ("" when not built).
inline std::string tbb_version() {
#if defined(SETTLE_PEERS_HAVE_TBB)
  return TBB_VERSION_STRING;
#else
  return "";
#endif
}

inline std::string asio_version() {
#if defined(SETTLE_PEERS_HAVE_ASIO)
  return std::to_string(ASIO_VERSION / 100000) + "." + std::to_string(ASIO_VERSION / 100 % 1000) +
         "." + std::to_string(ASIO_VERSION % 100);
#else
  return "";
#endif
}

}  // namespace peers

#endif  // SETTLE_BENCHMARKS_PEERS_PEERS_HPP
