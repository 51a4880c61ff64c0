// The futures forms: work the caller started. Ready futures are settled before the call
// (any/race must then pick the lowest index); pending ones are set by another thread,
// in a scenario-defined order, while the call runs.
#include <algorithm>
#include <future>
#include <thread>

#include "differential/runner.hpp"

namespace settle_stress {

namespace {

void settle_promise(const run_context& c, std::promise<int>& p, int index) {
  const task_spec& t = c.task(index);
  if (t.error == error_kind::none) {
    p.set_value(value_of(c.s, index));
  } else {
    stats().thrown.fetch_add(1, std::memory_order_relaxed);
    p.set_exception(make_error(t.error, c.call_id, index));
  }
}

template <class Futures>
void call_and_check(run_context& c, Futures& futures) {
  with_executor(c, [&](auto& ex) {
    with_combinator(c, [&]<comb_kind C>() {
      const auto o = capture([&] {
        if constexpr (std::is_same_v<typename Futures::value_type, std::future<int>>)
          return call<C>(ex, std::move(futures));
        else
          return call<C>(ex, futures);
      });
      check_outcome<C>(c, o, [&](const auto& result) { check_range_values<C>(c, result); });
    });
  });
}

}  // namespace

void run_futures_form(run_context& c) {
  c.has_bodies = false;
  const int n = c.size();
  std::vector<std::promise<int>> promises(static_cast<std::size_t>(n));

  if (c.s.form == form_kind::shared_futures) {
    std::vector<std::shared_future<int>> futures;
    for (auto& p : promises) futures.push_back(p.get_future().share());
    for (int i = 0; i < n; ++i) settle_promise(c, promises[static_cast<std::size_t>(i)], i);
    call_and_check(c, futures);
    return;
  }

  std::vector<std::future<int>> futures;
  for (auto& p : promises) futures.push_back(p.get_future());
  if (c.s.form == form_kind::ready_futures) {
    for (int i = 0; i < n; ++i) settle_promise(c, promises[static_cast<std::size_t>(i)], i);
    call_and_check(c, futures);
    return;
  }

  // Pending: a setter thread settles them in a shuffled order, each after its latency.
  std::vector<int> order(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  rng r(c.s.seed ^ 0x5E77E5ull);
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[static_cast<std::size_t>(r.next() % i)]);
  std::thread setter([&] {
    for (int index : order) {
      std::this_thread::sleep_for(c.task(index).latency);
      settle_promise(c, promises[static_cast<std::size_t>(index)], index);
    }
  });
  // any and race may return before every future is set: the setter is joined after the
  // check, and the promises outlive it.
  struct joiner {
    std::thread& t;
    ~joiner() { t.join(); }
  } join_setter{setter};
  call_and_check(c, futures);
}

}  // namespace settle_stress
