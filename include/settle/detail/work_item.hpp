/// @file detail/work_item.hpp
/// What a `thread_pool` queues: a function pointer, its context and a demand probe.
#pragma once

#include <cstddef>

namespace settle {
class thread_pool;
}

namespace settle::detail {

/// Queued work: a plain function pointer and its context, offered to `units` threads.
/// Keeping the queue free of owning objects lets a combinator offer a whole group with
/// one entry and no allocation per task: each thread that takes a unit runs the group's
/// tasks until none is left unclaimed.
struct work_item {
  // Runs with `units` units of this entry handed over: one when a thread takes a unit
  // to work with, all that are left when the entry is dropped as stale (or drained at
  // shutdown). It must give back exactly that many.
  void (*run)(void* context, std::size_t units) noexcept;
  void* context;
  // How many more threads the entry could still keep busy. A combinator's waiting
  // caller runs its own tasks, so entries go stale; the pool must not grow for them,
  // and drops them whole. Null means every unit is wanted.
  std::size_t (*demand)(void* context) noexcept = nullptr;
};

/// The combinators' door into a pool: batch submission, not part of the public API.
struct pool_access {
  // `helped`: the caller runs the entry's units too, right after this (a plain call).
  static void enqueue_batch(thread_pool& pool, work_item item, std::size_t units, bool helped);
  // Takes back the units of `context`'s entry that no thread has taken (its caller ran
  // the rest itself): the number of units, 0 when the entry is gone already.
  static std::size_t withdraw(thread_pool& pool, const void* context) noexcept;
};

}  // namespace settle::detail
