/// @file detail/slot.hpp
/// A task slot (one task and, once settled, its outcome) and the two ways a group stores
/// its slots: a tuple for the variadic forms, a vector (or deque) for the range forms.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "settle/settled.hpp"
#include "settle/task.hpp"

namespace settle::detail {

/// One task and, once it has run, its outcome. `Stored` is a decayed callable or future.
///
/// A callable's slot belongs to whoever claimed it. A future's slot is split: its outcome
/// belongs to the claimer, but the `std::future` object itself belongs to whoever watches
/// it (the launching thread, then the future watcher), because destroying a future that is
/// not ready may block (one from `std::async` waits for its work) and so must be done only
/// once it is ready, by a thread the call does not wait for.
template <class Stored>
struct slot {
  using result_type = typename task_result<Stored>::type;
  static constexpr bool is_future = future_task<Stored>;
  static constexpr bool is_stop_aware = !is_future && stop_aware_callable<Stored>;

  template <class Arg>
    requires(!std::is_same_v<std::remove_cvref_t<Arg>, slot> &&
             !std::is_same_v<std::remove_cvref_t<Arg>, std::in_place_t>)
  explicit slot(Arg&& arg) : task(std::in_place, std::forward<Arg>(arg)) {}

  template <class... Args>
  explicit slot(std::in_place_t, Args&&... args)
      : task(std::in_place, std::forward<Args>(args)...) {}

  std::optional<Stored> task;                  // engaged until it has run (see above for futures)
  std::optional<settled<result_type>> result;  // engaged once settled

  // Runs the task (for a future: takes its ready value) and stores its outcome; never
  // throws (the outcome holds the exception).
  void run(const std::stop_token& token) noexcept {
    try {
      if constexpr (std::is_void_v<result_type>) {
        call(token);
        result.emplace(std::in_place);
      } else {
        result.emplace(std::in_place, call(token));
      }
    } catch (...) {
      result.reset();
      result.emplace(make_rejected<result_type>(std::current_exception()));
    }
    // The callable lives until it returns, and no longer: whatever it captured is
    // released before the combinator can return.
    task.reset();
  }

  // Settles the slot rejected without running it. A callable is destroyed here; a future
  // is left to its watcher (see above).
  void reject(std::exception_ptr reason) noexcept {
    if constexpr (!is_future) task.reset();
    result.emplace(make_rejected<result_type>(std::move(reason)));
  }

  // The call expired while the task ran: whatever it produced gives way to `reason`.
  void replace_outcome(const std::exception_ptr& reason) noexcept {
    result.reset();
    result.emplace(make_rejected<result_type>(reason));
  }

  // For a future: ready, deferred, or invalid (which `get` reports at once as `no_state`).
  [[nodiscard]] bool future_ready() const noexcept {
    if constexpr (is_future) {
      try {
        // A deferred future is work nobody has started: its `get` runs it, on the thread
        // that asks. Counting it as ready has the launching caller run it at once.
        if (!task->valid()) return true;
        const auto status = task->wait_for(std::chrono::seconds(0));
        return status == std::future_status::ready || status == std::future_status::deferred;
      } catch (...) {
        return true;  // `get` will report whatever is wrong with it
      }
    } else {
      return true;
    }
  }

 private:
  decltype(auto) call(const std::stop_token& token) {
    if constexpr (is_future)
      return task->get();
    else if constexpr (is_stop_aware)
      // A prvalue token: the task may take it by value, `const&` or `&&`.
      return std::invoke(std::move(*task), std::stop_token(token));
    else
      return std::invoke(std::move(*task));
  }
};

/// Slots of different types, for the variadic forms.
template <class... Stored>
struct tuple_storage {
  static constexpr bool any_stop_aware = (slot<Stored>::is_stop_aware || ...);
  static constexpr bool any_future = (slot<Stored>::is_future || ...);

  // Each slot is built in place from its argument: no temporary slot is moved.
  template <class... Args>
  explicit tuple_storage(Args&&... args) : slots(std::forward<Args>(args)...) {}

  [[nodiscard]] static constexpr std::size_t size() noexcept { return sizeof...(Stored); }

  // Calls f(slot) on slot i: a fold over the indices, as the count is small.
  template <class F>
  void visit(std::size_t i, F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (void)((i == I && (f(std::get<I>(slots)), true)) || ...);
    }(std::index_sequence_for<Stored...>{});
  }
  [[nodiscard]] static constexpr bool is_future(std::size_t i) noexcept { return futures[i]; }
  /// How many callables (not futures) have an index in [first, last).
  [[nodiscard]] static constexpr std::size_t callables_in(std::size_t first,
                                                          std::size_t last) noexcept {
    return callables_before[last] - callables_before[first];
  }

  std::tuple<slot<Stored>...> slots;
  std::array<std::atomic<std::uint8_t>, sizeof...(Stored)> claims{};  // see `slot_state`

 private:
  static constexpr std::array<bool, sizeof...(Stored)> futures{slot<Stored>::is_future...};
  static constexpr std::array<std::size_t, sizeof...(Stored) + 1> callables_before = [] {
    std::array<std::size_t, sizeof...(Stored) + 1> out{};
    for (std::size_t i = 0; i < sizeof...(Stored); ++i) out[i + 1] = out[i] + (futures[i] ? 0 : 1);
    return out;
  }();
};

/// Slots of one type, for the range forms. `Shared` is state every task refers to (the
/// function of a map), kept here so that it lives exactly as long as the group. `Stable`
/// keeps the slots in a `std::deque`: a single-pass range of unknown size then moves each
/// element in once, instead of again at every reallocation of a vector.
template <class Stored, class Shared = std::monostate, bool Stable = false>
struct vector_storage {
  static constexpr bool any_stop_aware = slot<Stored>::is_stop_aware;
  static constexpr bool any_future = slot<Stored>::is_future;

  template <class... SharedArgs>
  explicit vector_storage(SharedArgs&&... shared_args)
      : shared(std::in_place, std::forward<SharedArgs>(shared_args)...) {}

  template <class... Args>
  void add(Args&&... args) {
    slots.emplace_back(std::in_place, std::forward<Args>(args)...);
  }
  void reserve(std::size_t n) {
    if constexpr (!Stable) slots.reserve(n);
  }
  void seal() { claims = std::make_unique<std::atomic<std::uint8_t>[]>(slots.size()); }

  [[nodiscard]] std::size_t size() const noexcept { return slots.size(); }
  template <class F>
  void visit(std::size_t i, F&& f) {
    f(slots[i]);
  }
  [[nodiscard]] static constexpr bool is_future(std::size_t) noexcept {
    return slot<Stored>::is_future;
  }
  [[nodiscard]] static constexpr std::size_t callables_in(std::size_t first,
                                                          std::size_t last) noexcept {
    return slot<Stored>::is_future ? 0 : last - first;
  }

  // Reset by the group once every task that uses it has returned, so that what it
  // captured is released on the caller's thread before the call returns.
  std::optional<Shared> shared;
  std::conditional_t<Stable, std::deque<slot<Stored>>, std::vector<slot<Stored>>> slots;
  std::unique_ptr<std::atomic<std::uint8_t>[]> claims;  // see `slot_state`
};

}  // namespace settle::detail
