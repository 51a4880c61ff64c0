/// @file detail/os_thread.hpp
/// What the operating system says about a thread: its kernel id, and whether it is
/// running, waiting for a lock, or blocked. An elastic `thread_pool` grows only for
/// blocked threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>

#if defined(__linux__)
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#endif

namespace settle::detail {

/// The kernel id of the calling thread, read from /proc on Linux; 0 elsewhere.
[[nodiscard]] inline int current_os_thread_id() noexcept {
  std::FILE* f = std::fopen("/proc/thread-self/stat", "r");
  if (f == nullptr) return 0;
  int id = 0;
  if (std::fscanf(f, "%d", &id) != 1) id = 0;
  std::fclose(f);
  return id;
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

/// Reads the start of /proc/self/task/<os_id>/<file> into `buf`, without its final
/// newline: the number of characters read, 0 when unreadable. Plain system calls into a
/// stack buffer, with no stream and no allocation: the supervisor looks at running threads
/// every few milliseconds while they compute, and a costly look would take its share of
/// their cores; the idle sentinel (detail/idle_sentinel.hpp) must not take malloc's locks,
/// which computing threads need, when it may be preempted for as long as they compute.
template <std::size_t N>
[[nodiscard]] std::size_t read_task_file(int os_id, const char* file, char (&buf)[N]) noexcept {
  static_assert(N > 1);
#if defined(__linux__)
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/%s", os_id, file);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const ::ssize_t got = ::read(fd, buf, N - 1);
  ::close(fd);
  std::size_t n = got > 0 ? static_cast<std::size_t>(got) : 0;
  while (n > 0 && buf[n - 1] == '\n') --n;
  buf[n] = '\0';
  return n;
#else
  (void)os_id;
  (void)file;
  buf[0] = '\0';
  return 0;
#endif
}

/// Whether a thread of this process is on a CPU or waiting for one ('R' in /proc). Cheaper
/// than `os_thread_now`: one file. Unknown counts as not.
[[nodiscard]] inline bool os_thread_on_cpu(int os_id) noexcept {
  if (os_id == 0) return false;
  char line[256];  // "pid (name) state ...": the name has at most 15 characters
  const std::size_t n = read_task_file(os_id, "stat", line);
  const std::string_view view(line, n);
  const auto close = view.rfind(')');  // the name may contain anything
  return close != std::string_view::npos && close + 2 < view.size() && view[close + 2] == 'R';
}

/// The CPU time a thread of this process has had so far, in nanoseconds, from its CPU
/// clock: one system call, a tenth of what a /proc read costs. -1 when unknown (not Linux,
/// id 0, the thread gone).
[[nodiscard]] inline std::int64_t os_thread_cpu_time(int os_id) noexcept {
#if defined(__linux__)
  if (os_id <= 0) return -1;
  // The kernel's name for a thread's CPU clock, as glibc's pthread_getcpuclockid makes it:
  // the id inverted and shifted by 3, with the per-thread (4) and scheduler-time (2) bits.
  const auto clock = static_cast<clockid_t>((~static_cast<unsigned>(os_id) << 3) | 6U);
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return -1;
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
#else
  (void)os_id;
  return -1;
#endif
}

/// What a thread of this process is doing, from /proc. Unknown (not Linux, id 0, /proc
/// unreadable) counts as blocked, so that growth falls back to the stalled-queue test alone.
[[nodiscard]] inline os_thread_state os_thread_now(int os_id) noexcept {
  if (os_id == 0) return os_thread_state::blocked;
  if (os_thread_on_cpu(os_id)) return os_thread_state::running;
  // A thread of the same process may read another's current system call. "running": it
  // woke up since.
  char line[256];
  const std::size_t n = read_task_file(os_id, "syscall", line);
  const std::string_view view(line, n);
  if (view == "running") return os_thread_state::running;
  try {
    if (n != 0 && waits_for_lock(std::string(view))) return os_thread_state::waiting_for_lock;
  } catch (...) {
  }
  return os_thread_state::blocked;
}

}  // namespace settle::detail
