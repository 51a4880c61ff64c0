/// @file options.hpp
/// Call options: a concurrency limit, a deadline, the caller's stop token and a progress
/// callback, taken by every combinator after the optional executor.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "settle/settled.hpp"

namespace settle {

/// What a combinator call may be told besides its tasks. Every field is off by default,
/// and a default `options{}` changes nothing.
///
/// - `max_concurrency`: at most this many of the call's callables run at any moment
///   (counting every thread that runs them, a helping caller too), started in argument
///   order; 0 means no limit. Futures are work already running and do not count.
/// - `timeout`, `deadline`: the call's deadline is the earlier of `deadline` and the
///   call's start + `timeout`. When it passes first, the call settles with
///   `settle::timed_out`: running tasks have their `std::stop_token` signalled, tasks not
///   yet started never start, and the call returns once the running ones have returned.
/// - `stop`: the caller's token. Once signalled, the call settles as for a deadline, with
///   `settle::cancelled`.
/// - `on_settled(i, status)`: called exactly once for every slot as it settles, on the
///   thread that settled it (possibly concurrently), before the call returns. It must
///   not throw (an exception escaping it calls `std::terminate`).
struct options {
  // Every member has an initializer, so that `options{.max_concurrency = 4, .timeout = 1s}`
  // compiles without -Wmissing-field-initializers warnings.
  /// At most this many of the call's callables at once; 0 (the default): no limit.
  std::size_t max_concurrency = 0;
  /// The call's deadline relative to its start; none by default.
  std::optional<std::chrono::steady_clock::duration> timeout{};
  /// The call's absolute deadline; none by default. With `timeout` too, the earlier wins.
  std::optional<std::chrono::steady_clock::time_point> deadline{};
  /// The caller's stop token: signalling it cancels the call. None by default.
  std::stop_token stop{};
  /// Called as `on_settled(index, status)` once per slot as it settles; none by default.
  std::function<void(std::size_t index, settle::status)> on_settled{};
};

/// `{.max_concurrency = n}`. Throws `std::invalid_argument` when `n` is 0 (which would
/// never start anything).
[[nodiscard]] inline options limit(std::size_t n) {
  if (n == 0) throw std::invalid_argument("settle::limit: the limit must be at least 1");
  options o;
  o.max_concurrency = n;
  return o;
}

/// `{.timeout = d}`: the call's deadline is its start + `d`.
template <class Rep, class Period>
[[nodiscard]] options timeout(std::chrono::duration<Rep, Period> d) {
  using clock_duration = std::chrono::steady_clock::duration;
  options o;
  // Saturated: a timeout longer than the clock can count is no deadline at all.
  if (d >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(clock_duration::max()))
    o.timeout = clock_duration::max();
  else
    o.timeout = std::chrono::ceil<clock_duration>(d);
  return o;
}

/// `{.deadline = t}`: an absolute deadline.
[[nodiscard]] inline options deadline(std::chrono::steady_clock::time_point t) {
  options o;
  o.deadline = t;
  return o;
}

/// `{.stop = t}`: the call is cancelled when `t` is signalled.
[[nodiscard]] inline options stop_on(std::stop_token t) {
  options o;
  o.stop = std::move(t);
  return o;
}

/// `{.on_settled = f}`: `f(index, status)` as each slot settles.
template <class F>
  requires std::constructible_from<std::function<void(std::size_t, status)>, F>
[[nodiscard]] options on_settled(F&& f) {
  options o;
  o.on_settled = std::forward<F>(f);
  return o;
}

/// Combines two sets of options: each field that `b` sets (a non-zero limit, an engaged
/// optional, a token with `stop_possible()`, a non-empty function) replaces `a`'s.
[[nodiscard]] inline options operator|(options a, const options& b) {
  if (b.max_concurrency != 0) a.max_concurrency = b.max_concurrency;
  if (b.timeout) a.timeout = b.timeout;
  if (b.deadline) a.deadline = b.deadline;
  if (b.stop.stop_possible()) a.stop = b.stop;
  if (b.on_settled) a.on_settled = b.on_settled;
  return a;
}

}  // namespace settle
