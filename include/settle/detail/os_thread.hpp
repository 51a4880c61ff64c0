/// @file detail/os_thread.hpp
/// What the operating system says about a thread: its kernel id, and whether it is
/// running, waiting for a lock, or blocked. An elastic `thread_pool` grows only for
/// blocked threads.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
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

enum class os_thread_state {
  running,           // on a CPU or waiting for one
  waiting_for_lock,  // asleep in the kernel for a mutex another thread holds
  blocked,           // asleep for anything else (I/O, a timer, a condition), or unknown
};

// The futex system call's number where this library knows it (Linux only), else -1.
inline constexpr long futex_syscall =
#if !defined(__linux__)
    -1;
#elif defined(__x86_64__) && !defined(__ILP32__)
    202;
#elif defined(__aarch64__) || (defined(__riscv) && __riscv_xlen == 64)
    98;
#elif defined(__i386__) || defined(__arm__)
    240;
#elif defined(__powerpc__) || defined(__powerpc64__)
    221;
#elif defined(__s390x__)
    238;
#else
    -1;
#endif

/// Whether a line of /proc/<pid>/task/<tid>/syscall shows a wait for a mutex: a futex
/// wait for the value 2 (what glibc's locks wait on while contended; musl's wait on other
/// values, so there a lock wait counts as blocking at once, as before), or a
/// priority-inheritance lock. A condition variable, a future or a semaphore waits with
/// another operation (FUTEX_WAIT_BITSET) or another value, as does every other call.
[[nodiscard]] inline bool waits_for_lock(const std::string& syscall_line) {
  if (futex_syscall < 0) return false;
  std::istringstream in(syscall_line);
  long number = -1;
  if (!(in >> number) || number != futex_syscall) return false;
  std::uint64_t address = 0;
  std::uint64_t op = 0;
  std::uint64_t value = 0;
  if (!(in >> std::hex >> address >> op >> value)) return false;
  constexpr std::uint64_t private_flag = 128;
  constexpr std::uint64_t realtime_flag = 256;
  const std::uint64_t command = op & ~(private_flag | realtime_flag);
  constexpr std::uint64_t wait = 0;
  constexpr std::uint64_t lock_pi = 6;
  constexpr std::uint64_t lock_pi2 = 13;
  return (command == wait && value == 2) || command == lock_pi || command == lock_pi2;
}

/// Whether a thread of this process is on a CPU or waiting for one ('R' in /proc). Cheaper
/// than `os_thread_now`: one file. Unknown counts as not.
[[nodiscard]] inline bool os_thread_on_cpu(int os_id) noexcept {
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

/// What a thread of this process is doing, from /proc. Unknown (not Linux, id 0, /proc
/// unreadable) counts as blocked, so that growth falls back to the stalled-queue test alone.
[[nodiscard]] inline os_thread_state os_thread_now(int os_id) noexcept {
  if (os_id == 0) return os_thread_state::blocked;
  if (os_thread_on_cpu(os_id)) return os_thread_state::running;
  try {
    // A thread of the same process may read another's current system call. "running":
    // it woke up since.
    std::ifstream syscall("/proc/self/task/" + std::to_string(os_id) + "/syscall");
    std::string line;
    if (std::getline(syscall, line)) {
      if (line == "running") return os_thread_state::running;
      if (waits_for_lock(line)) return os_thread_state::waiting_for_lock;
    }
  } catch (...) {
  }
  return os_thread_state::blocked;
}

}  // namespace settle::detail
