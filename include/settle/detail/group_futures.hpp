/// @file detail/group_futures.hpp
/// How a group deals with the futures it was given: the ready ones settle at launch, in
/// index order; the others are polled by the `watcher` thread, which settles each once it
/// is ready and destroys it then. No thread the call waits for ever blocks on a future.
/// Included by group.hpp, whose members it defines.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>

#include "settle/detail/group.hpp"
#include "settle/detail/watcher.hpp"

namespace settle::detail {

// Future slot i is ready and this thread owns its `std::future`: settle the slot (if
// nobody has) and destroy the future, which cannot block now.
template <class Rule, class Storage>
void group<Rule, Storage>::finish_future(std::size_t i) noexcept {
  if (claim(i)) run_claimed(i);
  storage_.visit(i, [](auto& s) { s.task.reset(); });
}

// JavaScript settles already-settled inputs in index order: so do we, before any
// callable starts, so that `race`/`any` over ready futures pick the lowest index. The
// futures still pending go to the watcher.
template <class Rule, class Storage>
void group<Rule, Storage>::start_futures() noexcept {
  bool pending = false;
  for (std::size_t i = 0; i < storage_.size(); ++i) {
    if (!storage_.is_future(i)) continue;
    bool ready = false;
    storage_.visit(i, [&](auto& s) { ready = s.future_ready(); });
    if (ready)
      finish_future(i);
    else
      pending = true;
  }
  if (!pending) return;
  add_refs(1);  // the watcher's, until its last future is ready
  watch_.poll = &poll_futures;
  watch_.context = this;
  watch_since_ = watch_node::clock::now();
  try {
    watcher::instance().watch(watch_);
  } catch (...) {
    // No watcher thread: the pending futures settle with that error. They stay in
    // their slots and are destroyed with the group.
    refs_.fetch_sub(1, std::memory_order_relaxed);  // the caller still holds one
    const auto reason = std::current_exception();
    for (std::size_t i = 0; i < storage_.size(); ++i)
      if (storage_.is_future(i) && claim(i)) cancel_claimed(i, reason);
  }
}

// The watcher's look at the pending futures: settles the ready ones. Backs off as they
// stay pending (the age over 20, from 20 us up to 1 ms while an outcome is still
// wanted, up to 50 ms when only the destruction of losing futures is left), and never
// spends more than a fifth of the watcher's time on one group.
template <class Rule, class Storage>
watch_node::clock::time_point group<Rule, Storage>::poll_futures(
    watch_node& node, watch_node::clock::time_point now) noexcept {
  using namespace std::chrono_literals;
  auto* self = static_cast<group*>(node.context);
  bool left = false;
  bool wanted = false;
  for (std::size_t i = 0; i < self->storage_.size(); ++i) {
    if (!storage_type::is_future(i)) continue;
    self->storage_.visit(i, [&](auto& s) {
      if (!s.task.has_value()) return;
      if (s.future_ready()) {
        // Settle only while the call is not over: then the caller cannot return while
        // this thread writes the outcome or reports it.
        if (self->enter()) {
          self->finish_future(i);
          self->release_outstanding();
        } else {
          s.task.reset();
        }
      } else {
        left = true;
        wanted = wanted || !self->claimed(i);
      }
    });
  }
  if (!left) {
    self->release();
    return watch_node::done;
  }
  const auto end = watch_node::clock::now();
  const auto age = std::chrono::duration_cast<std::chrono::nanoseconds>(end - self->watch_since_);
  const std::chrono::nanoseconds cap = wanted ? 1ms : 50ms;
  const auto interval = std::max(std::clamp<std::chrono::nanoseconds>(age / 20, 20us, cap),
                                 std::chrono::nanoseconds(4 * (end - now)));
  return end + interval;
}

}  // namespace settle::detail
