/// @file detail/os_thread.hpp
/// What the operating system says about a thread: its kernel id, and whether it is
/// running or blocked. An elastic `thread_pool` grows only for blocked threads.
#pragma once

#include <fstream>
#include <string>

namespace settle::detail {

/// The kernel id of the calling thread, read from /proc on Linux; 0 elsewhere.
[[nodiscard]] inline int current_os_thread_id() noexcept {
  try {
    std::ifstream stat("/proc/thread-self/stat");
    int id = 0;
    if (stat >> id) return id;
  } catch (...) {
  }
  return 0;
}

/// Whether a thread of this process is on a CPU or waiting for one ('R' in /proc), as
/// opposed to blocked. Unknown (not Linux, id 0) counts as blocked, so that growth falls
/// back to the stalled-queue test alone.
[[nodiscard]] inline bool os_thread_running(int os_id) noexcept {
  if (os_id == 0) return false;
  try {
    std::ifstream stat("/proc/self/task/" + std::to_string(os_id) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto close = line.rfind(')');  // the command name may contain anything
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'R';
  } catch (...) {
    return false;
  }
}

}  // namespace settle::detail
