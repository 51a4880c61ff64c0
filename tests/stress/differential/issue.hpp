// Issuing a scenario's call (SPEC §6): the plain blocking call, `settle::start` then `get`
// (perhaps polled or waited for first, perhaps with other work in between), or `co_await` on
// the pending inside a coroutine whose result the calling thread collects. Every form of the
// runner calls through `call<C>` here, so the three ways share one oracle: each must give
// exactly what the plain call gives.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <type_traits>
#include <utility>

#include <settle/settle.hpp>

#include "differential/runner.hpp"
#include "support/coro.hpp"

namespace settle_stress {

/// The combinator object of C (`settle::all_settled`, ...): what `settle::start` takes.
template <comb_kind C>
constexpr const auto& combinator_of() {
  if constexpr (C == comb_kind::all_settled)
    return settle::all_settled;
  else if constexpr (C == comb_kind::all)
    return settle::all;
  else if constexpr (C == comb_kind::any)
    return settle::any;
  else
    return settle::race;
}

/// The coroutine of call_mode::await: suspends on the pending, is resumed on whichever thread
/// finished the call, and hands over what `get()` returned or threw.
template <class R>
settle_test::eager<R> await_pending(settle::pending<R> p)
  requires(!std::is_void_v<R>)
{
  co_return co_await std::move(p);
}
template <class R>
settle_test::eager<R> await_pending(settle::pending<R> p)
  requires std::is_void_v<R>
{
  co_await std::move(p);
}

/// Work the caller does between `start` and `get` (nothing the call depends on).
void other_work(int rounds);

/// The checks of a started call's observers before `get`, and the poll the scenario draws.
template <class R>
void poll(const run_context& c, const settle::pending<R>& p) {
  if (!p.valid()) c.mismatch("start returned a pending that is not valid()");
  // The inline executor runs everything during `start` (futures aside: none here).
  bool callables_only = c.has_bodies;
  for (int i = 0; i < c.size(); ++i) callables_only = callables_only && !c.s.is_future(i);
  if (c.s.exec == exec_kind::inline_exec && callables_only && !p.ready())
    c.mismatch("start on the inline executor returned a pending that is not ready()");
  other_work(c.s.issue.work);
  switch (c.s.issue.poll) {
    case poll_kind::none:
      break;
    case poll_kind::wait:
      p.wait();
      if (!p.ready()) c.mismatch("ready() is false after wait() returned");
      break;
    case poll_kind::wait_for:
      if (p.wait_for(c.s.issue.wait_for) == std::future_status::ready && !p.ready())
        c.mismatch("wait_for() said ready, but ready() is false");
      break;
    case poll_kind::ready:
      if (p.ready() && p.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
        c.mismatch("ready() is true, but wait_for(0s) timed out");
      break;
  }
}

/// Issues `combinator(args...)` the way scenario `c` says, and returns what it returned (or
/// throws what it threw).
template <class Combinator, class... A>
auto issue(run_context& c, const Combinator& combinator, A&&... args) {
  switch (c.s.issue.mode) {
    case call_mode::plain:
      break;
    case call_mode::start: {
      stats().started_calls.fetch_add(1, std::memory_order_relaxed);
      auto p = settle::start(combinator, std::forward<A>(args)...);
      poll(c, p);
      using pending_type = decltype(p);
      struct after_get {
        const run_context& context;
        const pending_type& collected;
        // Also when get() throws: the result is collected once either way.
        ~after_get() {
          if (collected.valid()) context.mismatch("valid() is still true after get()");
        }
      } check{c, p};
      return p.get();
    }
    case call_mode::await: {
      stats().awaited_calls.fetch_add(1, std::memory_order_relaxed);
      auto coroutine = await_pending(settle::start(combinator, std::forward<A>(args)...));
      // A hang is the hang detector's to report, with the scenario's seed.
      return coroutine.get(std::chrono::hours(24));
    }
  }
  return combinator(std::forward<A>(args)...);
}

/// Calls combinator C on `ex` (the forms without options when the scenario draws none),
/// issued as the scenario says.
template <comb_kind C, class Ex, class... A>
auto call(run_context& c, Ex& ex, A&&... a) {
  const auto& combinator = combinator_of<C>();
  if constexpr (std::is_same_v<Ex, default_tag>) {
    if (c.opts == nullptr) return issue(c, combinator, std::forward<A>(a)...);
    return issue(c, combinator, options_for_call(c), std::forward<A>(a)...);
  } else {
    if (c.opts == nullptr) return issue(c, combinator, ex, std::forward<A>(a)...);
    return issue(c, combinator, ex, options_for_call(c), std::forward<A>(a)...);
  }
}

}  // namespace settle_stress
