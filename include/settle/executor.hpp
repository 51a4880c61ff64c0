/// @file executor.hpp
/// The `executor` concept and the sequential `inline_executor`.
#pragma once

#include <concepts>
#include <functional>
#include <utility>

namespace settle {

namespace detail {
/// The weakest job a combinator hands to an executor: move-only, called once.
struct executor_archetype_job {
  executor_archetype_job() = default;
  executor_archetype_job(executor_archetype_job&&) = default;
  executor_archetype_job& operator=(executor_archetype_job&&) = default;
  executor_archetype_job(const executor_archetype_job&) = delete;
  executor_archetype_job& operator=(const executor_archetype_job&) = delete;
  void operator()() {}
};
}  // namespace detail

/// Something that runs jobs: `e.execute(f)` accepts any move-only callable `f` of
/// signature `void()` and runs it once, now or later, on some thread. `execute` may throw
/// to refuse a job; a combinator then settles that task rejected with the exception.
/// An executor that destroys a job without running it makes that task settle rejected
/// with `settle::cancelled`.
template <class E>
concept executor =
    requires(E& e, detail::executor_archetype_job job) { e.execute(std::move(job)); };

/// Runs each job at once on the calling thread: combinators become sequential, one task
/// after another in argument order. The baseline for measuring what concurrency buys.
struct inline_executor {
  /// Calls `f()` on the calling thread before returning; whatever `f` throws propagates.
  template <class F>
    requires std::invocable<F>
  void execute(F&& f) const {
    std::invoke(std::forward<F>(f));
  }
};

}  // namespace settle
