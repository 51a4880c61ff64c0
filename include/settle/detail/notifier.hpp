/// @file detail/notifier.hpp
/// The pool that runs, for the watcher thread, the user code a group's early settlement
/// runs: stop callbacks of running tasks and destructors of cancelled ones.
#pragma once

#include "settle/thread_pool.hpp"

namespace settle::detail {

/// Where the watcher hands the user code that settling a group early runs (stop
/// callbacks, destructors of cancelled tasks). Not `default_executor()`: the tasks waiting
/// for that stop request may be what fills it. An elastic pool of its own, created on
/// first use and never destroyed, so a callback that blocks gets another thread for the
/// next one.
[[nodiscard]] inline thread_pool& notifier() {
  static thread_pool* const pool = [] {
    pool_options opts;
    opts.min_threads = 1;
    opts.max_threads = 64;
    return new thread_pool(opts);
  }();
  return *pool;
}

}  // namespace settle::detail
