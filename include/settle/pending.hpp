/// @file pending.hpp
/// Start now, collect later: `settle::start` launches any combinator call and returns a
/// `pending<R>`, to wait for, `get`, stop or `co_await`; like holding a JavaScript promise.
#pragma once

#include <chrono>
#include <concepts>
#include <coroutine>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include "settle/detail/combinator.hpp"
#include "settle/detail/started.hpp"
#include "settle/detail/watcher.hpp"
#include "settle/options.hpp"
#include "settle/thread_pool.hpp"

namespace settle {

namespace detail {
struct starting;
}

/// A combinator call started by `settle::start`: its tasks run while the owner does
/// other work; `get()` collects exactly what the plain call would have returned or thrown.
///
/// Move-only, and structured like `std::jthread`: destroying (or assigning over) a
/// `pending` whose result was not collected requests stop and waits for the call, so no
/// task it started outlives it, and tasks may capture the owner's locals by reference.
/// `co_await std::move(p)` suspends a coroutine without blocking a thread and resumes it
/// on the thread that finished the call (at once if it had finished).
template <class R>
class pending {
 public:
  /// What `get()` returns: the plain call's result type.
  using value_type = R;

  /// A pending with no call (`valid()` is false).
  pending() noexcept = default;
  /// Takes over `other`'s call; `other` is left without one.
  pending(pending&& other) noexcept = default;
  /// Stops and waits for the call this one held, if it was not collected, then takes
  /// `other`'s.
  pending& operator=(pending&& other) noexcept {
    if (this != &other) state_ = std::move(other.state_);
    return *this;
  }
  /// Not collected: requests stop, then waits for every task the call started.
  ~pending() = default;

  /// Holds a call whose result has not been collected.
  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }

  /// The call has finished: `get()` would return (or throw) at once.
  [[nodiscard]] bool ready() const noexcept { return state_ && state_->done().ready(); }

  /// Blocks until the call has finished. On a settle pool the waiting thread runs the
  /// call's tasks not yet started, as the plain call does, so waiting inside a task of the
  /// same pool cannot deadlock.
  void wait() const {
    check();
    state_->wait();
  }

  /// Blocks until the call has finished or `rel` has passed. Does not run tasks.
  template <class Rep, class Period>
  std::future_status wait_for(const std::chrono::duration<Rep, Period>& rel) const {
    check();
    using clock = std::chrono::steady_clock;
    // Compared in floating point: `rel` may be huge in a coarse unit (hours::max(), or
    // hours(-3'000'000)), or not a number at all.
    using seconds = std::chrono::duration<double>;
    if (!(seconds(rel) > seconds::zero()))
      return ready() ? std::future_status::ready : std::future_status::timeout;
    const auto now = clock::now();
    if (seconds(rel) >= seconds(clock::time_point::max() - now))
      return wait_until(clock::time_point::max());
    return wait_until(now + std::chrono::ceil<clock::duration>(rel));
  }

  /// Blocks until the call has finished or `abs` has passed. Does not run tasks.
  template <class Clock, class Duration>
  std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& abs) const {
    check();
    return state_->done().wait_until(abs) ? std::future_status::ready : std::future_status::timeout;
  }

  /// Waits, then returns exactly what the plain call returns, or throws what it throws.
  /// Once: afterwards `valid()` is false. Without a call: throws `std::future_error`
  /// (`no_state`).
  R get() {
    check();
    const std::unique_ptr<detail::call_state<R>> state = std::move(state_);
    return state->collect();
  }

  /// As if the call's stop token were signalled: tasks not started never start, running
  /// ones see their `std::stop_token` signalled, and the call settles `cancelled`,
  /// unless it had settled already. No effect without a call. Like the other `const`
  /// members, safe from any thread alongside `ready` and the waits, but not alongside
  /// `get`, a move or the destructor (those change the `pending` itself).
  void request_stop() const noexcept {
    if (state_) state_->request_stop();
  }

  /// `co_await std::move(p)`: what `p.get()` returns or throws.
  [[nodiscard]] auto operator co_await() && noexcept { return awaiter(std::move(*this)); }

 private:
  friend struct detail::starting;

  class awaiter : private detail::waker {
   public:
    explicit awaiter(pending&& p) noexcept : pending_(std::move(p)) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    // A coroutine destroyed while suspended here: take the registration back before the
    // pending stops and waits for the call, whose end would otherwise resume the
    // coroutine being destroyed.
    ~awaiter() {
      if (pending_.state_) (void)pending_.state_->done().unsubscribe(*this);
    }

    [[nodiscard]] bool await_ready() const noexcept {
      return !pending_.valid() || pending_.ready();
    }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
      coroutine_ = h;
      // After a successful subscription the coroutine may be resumed on another thread at
      // once: nothing here is touched after it.
      return pending_.state_->done().subscribe(*this);
    }
    R await_resume() { return pending_.get(); }

   private:
    void wake() noexcept override {
      const std::coroutine_handle<> h = coroutine_;
      // Never the user's code on the watcher thread (a future or a deadline finished the
      // call), nor inside a stop callback (the request's other callbacks wait behind it,
      // perhaps the very ones the coroutine would wait for next): the default executor
      // resumes the coroutine instead. Not the notifier pool, which delivers every call's
      // stop requests and must not be held by user code.
      if (detail::watcher::on_this_thread() || detail::in_stop_callback != 0) {
        try {
          default_executor().execute([h]() noexcept { h.resume(); });
          return;
        } catch (...) {  // refused: resume here after all
        }
      }
      h.resume();
    }

    pending pending_;
    std::coroutine_handle<> coroutine_;
  };

  explicit pending(std::unique_ptr<detail::call_state<R>> state) noexcept
      : state_(std::move(state)) {}

  void check() const {
    if (!state_) throw std::future_error(std::future_errc::no_state);
  }

  std::unique_ptr<detail::call_state<R>> state_;
};

namespace detail {

/// The mode of the call forms behind `settle::start`: launch the filled group, then hand
/// it to a `pending` instead of waiting for it.
struct starting {
  template <class Group, class Ex>
  static auto run(group_handle<Group> g, Ex&& ex, options&& opts) {
    static_assert(std::is_lvalue_reference_v<Ex> || std::move_constructible<Ex>,
                  "settle::start: this executor cannot be moved into the pending call; pass "
                  "an executor that outlives the pending (an lvalue) instead of a temporary");
    using result = decltype(Group::rule_type::collect(*g));
    using state_type = started<Group, Ex, result>;
    // Allocated before anything runs: if this throws, nothing has started.
    auto state = std::make_unique<state_type>(std::move(g), std::forward<Ex>(ex));
    state->launch(std::move(opts));
    return pending<result>(std::move(state));
  }
};

/// A combinator of this library called with `Args`, as the plain call would accept them.
template <class C, class... Args>
concept startable =
    requires { typename C::template with_mode<starting>; } && std::invocable<const C&, Args...>;

}  // namespace detail

/// Starts `combinator(args...)` (any form of §3 and §5: tasks, a range or a map, with an
/// optional executor and options) and returns at once with a `pending<R>`, `R` being what
/// the plain call returns. Every task is handed to the executor before `start` returns
/// and none runs on the calling thread, except with `inline_executor`, which runs them
/// all during `start`. A deadline in the options fires whether or not anyone waits.
///
///     auto page = settle::start(settle::all_settled, fetch_user, fetch_posts);
///     render_header();
///     auto [user, posts] = page.get();
template <class C, class... Args>
  requires detail::startable<C, Args...>
[[nodiscard]] auto start(const C& combinator, Args&&... args) {
  (void)combinator;  // only its type is used: its forms, run another way
  return typename C::template with_mode<detail::starting>{}(std::forward<Args>(args)...);
}

}  // namespace settle
