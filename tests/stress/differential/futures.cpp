// The promises behind future inputs, and the forms whose inputs are all futures: ready
// ones, shared ready ones, late ones, and ranges of futures of mixed kinds (some set only
// after the call returns, which any, race and all must not wait for).
#include "differential/futures.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "differential/oracle.hpp"

namespace settle_stress {

future_inputs::future_inputs(run_context& c)
    : c_(c),
      promises_(c.s.tasks.size()),
      futures_(c.s.tasks.size()),
      set_(std::make_unique<std::atomic<bool>[]>(c.s.tasks.size())) {
  for (int i = 0; i < c.size(); ++i) {
    if (!c.s.is_future(i)) continue;
    stats().futures.fetch_add(1, std::memory_order_relaxed);
    futures_[static_cast<std::size_t>(i)] = promises_[static_cast<std::size_t>(i)].get_future();
    if (c.task(i).input == input_kind::ready_future) settle(i);
  }
  c_.futures = this;
}

future_inputs::~future_inputs() {
  release();
  c_.futures = nullptr;
}

std::future<int> future_inputs::take(int index) {
  return std::move(futures_[static_cast<std::size_t>(index)]);
}

void future_inputs::start() {
  const bool any_late = std::any_of(c_.s.tasks.begin(), c_.s.tasks.end(), [](const task_spec& t) {
    return t.input == input_kind::late_future;
  });
  if (any_late) setter_ = std::jthread([this](std::stop_token stop) { set_late(stop); });
}

void future_inputs::set_late(std::stop_token stop) {
  // In a shuffled order (the seed's), stably sorted by delay: futures with equal delays
  // become ready out of index order.
  std::vector<int> order;
  for (int i = 0; i < c_.size(); ++i)
    if (c_.task(i).input == input_kind::late_future) order.push_back(i);
  rng r(c_.s.seed ^ 0x5E77E5ull);
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[static_cast<std::size_t>(r.next() % i)]);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return c_.task(a).latency < c_.task(b).latency; });
  const auto start = std::chrono::steady_clock::now();
  std::mutex m;
  std::condition_variable_any cv;
  for (int index : order) {
    // The delay only creates the situation (a future that becomes ready while the call
    // runs); no outcome depends on it. `release` cuts it short once the call is over.
    std::unique_lock lock(m);
    if (cv.wait_until(lock, stop, start + c_.task(index).latency, [] { return false; })) return;
    lock.unlock();
    settle(index);
  }
}

void future_inputs::settle(int index) noexcept {
  // acq_rel: whoever sets the promise is the only one; the promise synchronizes the rest.
  if (set_[static_cast<std::size_t>(index)].exchange(true, std::memory_order_acq_rel)) return;
  std::promise<int>& p = promises_[static_cast<std::size_t>(index)];
  const task_spec& t = c_.task(index);
  if (t.error == error_kind::none) {
    p.set_value(value_of(c_.s, index));
  } else {
    stats().thrown.fetch_add(1, std::memory_order_relaxed);
    p.set_exception(make_error(t.error, c_.call_id, index));
  }
}

void future_inputs::release() noexcept {
  if (setter_.joinable()) {
    setter_.request_stop();
    setter_.join();
  }
  for (int i = 0; i < c_.size(); ++i)
    if (c_.s.is_future(i)) settle(i);
}

void set_siblings(run_context& c, int index) {
  for (int j = 0; j < c.size(); ++j) {
    const task_spec& t = c.task(j);
    if (t.input != input_kind::sibling_future || t.set_by != index) continue;
    stats().set_by_tasks.fetch_add(1, std::memory_order_relaxed);
    c.futures->settle(j);
  }
}

namespace {

template <class Futures>
void call_and_check(run_context& c, Futures& futures) {
  with_executor(c, [&](auto& ex) {
    with_combinator(c, [&]<comb_kind C>() {
      const auto o = capture([&] {
        if constexpr (std::is_same_v<typename Futures::value_type, std::future<int>>)
          return call<C>(c, ex, std::move(futures));
        else
          return call<C>(c, ex, futures);
      });
      check_outcome<C>(c, o, [&](const auto& result) { check_range_values<C>(c, result); });
    });
  });
}

}  // namespace

void run_futures_form(run_context& c) {
  c.has_bodies = false;
  future_inputs inputs(c);
  if (c.s.form == form_kind::shared_futures) {
    std::vector<std::shared_future<int>> futures;
    for (int i = 0; i < c.size(); ++i) futures.push_back(inputs.take(i).share());
    call_and_check(c, futures);
    return;
  }
  std::vector<std::future<int>> futures;
  for (int i = 0; i < c.size(); ++i) futures.push_back(inputs.take(i));
  inputs.start();
  // any, race and all may return before every future is set: `inputs` sets the rest and
  // joins the setter after the check (and the liveness check of a top-level scenario).
  call_and_check(c, futures);
}

}  // namespace settle_stress
