/// @file detail/pool_helpers.hpp
/// The callers that help an elastic `thread_pool` with their own call's tasks. A plain
/// call waits by running its own tasks, so on a machine of `c` cores the caller is one of
/// the runners: `c - 1` pool threads beside it already fill the cores with CPU-bound
/// tasks, and a `c`-th would only share them (and start late, behind the others, which
/// leaves a core idle at the end). The pool wakes threads for a core's worth less the
/// helping callers; its supervisor wakes more once the callers or the busy threads are
/// seen off the CPU (see thread_pool::hold_for_helpers).
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

#include "settle/detail/os_thread.hpp"

namespace settle::detail {

/// The pool whose worker the calling thread is, or null: a worker helping a call on
/// its own pool is already counted as busy there.
inline thread_local const void* worker_of_pool = nullptr;

/// The calling thread's kernel id, read once per thread (0 where the OS does not say).
[[nodiscard]] inline int this_thread_os_id() noexcept {
  thread_local const int id = current_os_thread_id();
  return id;
}

/// The callers helping now, one record per queue entry they submitted, with their
/// kernel ids for the supervisor's look at the CPUs. A caller whose task makes a nested
/// plain call has two records but is one runner. Guarded by the pool's mutex.
class pool_helpers {
 public:
  /// Records a caller that will help with the entry of `context`; false when the
  /// record cannot be made (out of memory), and the caller is then simply not counted.
  bool add(const void* context, int os_id) noexcept {
    const auto self = std::this_thread::get_id();
    const bool first = !of_thread(self);
    try {
      list_.push_back({context, os_id, self});
    } catch (...) {
      return false;
    }
    if (first) ++threads_;
    return true;
  }

  /// The caller of `context`'s entry has finished helping (no-op when not recorded).
  void remove(const void* context) noexcept {
    const auto it = std::find_if(list_.begin(), list_.end(),
                                 [context](const helper& h) { return h.context == context; });
    if (it == list_.end()) return;
    const auto thread = it->thread;
    list_.erase(it);
    if (!of_thread(thread)) --threads_;
  }

  /// Whether the entry of `context` has its caller helping.
  [[nodiscard]] bool helps(const void* context) const noexcept {
    return std::any_of(list_.begin(), list_.end(),
                       [context](const helper& h) { return h.context == context; });
  }

  /// How many threads help, each counted once however deep its nested calls.
  [[nodiscard]] std::size_t threads() const noexcept { return threads_; }
  [[nodiscard]] bool empty() const noexcept { return list_.empty(); }

  /// Appends the helping threads' kernel ids to `ids`, each thread once.
  void os_ids(std::vector<int>& ids) const {
    for (std::size_t i = 0; i < list_.size(); ++i) {
      const auto same = [&](const helper& h) { return h.thread == list_[i].thread; };
      if (std::none_of(list_.begin(), list_.begin() + static_cast<std::ptrdiff_t>(i), same))
        ids.push_back(list_[i].os_id);
    }
  }

 private:
  struct helper {
    const void* context;
    int os_id;
    std::thread::id thread;
  };

  [[nodiscard]] bool of_thread(std::thread::id thread) const noexcept {
    return std::any_of(list_.begin(), list_.end(),
                       [thread](const helper& h) { return h.thread == thread; });
  }

  std::vector<helper> list_;
  std::size_t threads_ = 0;
};

}  // namespace settle::detail
