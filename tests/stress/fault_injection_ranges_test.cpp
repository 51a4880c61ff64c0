// Fault injection in the range forms: range elements that throw when read or copied, at
// every position of every range form and iteration kind. The element's exception propagates
// unchanged; no task runs on after the call, none runs twice, nothing leaks, nothing hangs.
#include <settle/settle.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <iterator>
#include <memory>
#include <new>
#include <ranges>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "stress/fault_log.hpp"
#include "stress/stress_support.hpp"
#include "support/catch.hpp"
#include "support/executors.hpp"
#include "support/probes.hpp"

namespace {

using namespace settle_stress;

// ---- ranges whose elements throw when read or constructed --------------------------------

/// Thrown by a faulty_range's operator* or by copying an element_probe.
struct element_fault {
  int index;
};

/// A task (and a map element): counts its copies and body runs, and its copy constructor
/// throws element_fault when its index is `*copy_throws_at`.
struct element_probe {
  element_probe(task_log& l, settle_test::counters& c, const int& copy_throws_at, int i)
      : log(&l), counted(c, i), copy_throws_at(&copy_throws_at), index(i) {}
  element_probe(const element_probe& other)
      : log(other.log),
        counted(copy_checked(other)),
        copy_throws_at(other.copy_throws_at),
        index(other.index) {}
  element_probe(element_probe&&) noexcept = default;
  element_probe& operator=(const element_probe&) = delete;
  element_probe& operator=(element_probe&&) = delete;
  ~element_probe() = default;

  int operator()() const {
    in_body body(*log, index);
    std::this_thread::yield();  // a task still running at the call's return would show
    return index;
  }

  task_log* log;
  settle_test::counted counted;
  const int* copy_throws_at;
  int index;

 private:
  static const settle_test::counted& copy_checked(const element_probe& other) {
    if (other.index == *other.copy_throws_at) throw element_fault{other.index};
    return other.counted;
  }
};

enum class iteration { forward_by_reference, input_by_reference, input_by_value };

/// A range over `backing` whose operator* throws element_fault at index `throw_at`. Single-pass
/// (input) or forward; operator* yields the element by reference, or a copy (a moved-out
/// element when Elem cannot be copied). Written by hand: clang 14 cannot compile libstdc++ 12's
/// views.
template <class Elem, iteration How>
class faulty_range {
 public:
  faulty_range(std::vector<Elem>& backing, int throw_at)
      : backing_(&backing), throw_at_(throw_at) {}

  class iterator {
   public:
    using iterator_concept = std::conditional_t<How == iteration::forward_by_reference,
                                                std::forward_iterator_tag, std::input_iterator_tag>;
    using iterator_category = iterator_concept;
    using value_type = Elem;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<How == iteration::input_by_value, Elem, Elem&>;

    iterator() = default;
    iterator(const faulty_range* r, std::size_t i) : range_(r), i_(i) {}

    reference operator*() const {
      if (static_cast<int>(i_) == range_->throw_at_) throw element_fault{static_cast<int>(i_)};
      Elem& e = (*range_->backing_)[i_];
      if constexpr (How != iteration::input_by_value || std::copy_constructible<Elem>)
        return e;
      else
        return std::move(e);
    }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++i_;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }

   private:
    const faulty_range* range_ = nullptr;
    std::size_t i_ = 0;
  };

  [[nodiscard]] iterator begin() const { return iterator(this, 0); }
  [[nodiscard]] iterator end() const { return iterator(this, backing_->size()); }

 private:
  std::vector<Elem>* backing_;
  int throw_at_;
};

static_assert(
    std::ranges::forward_range<faulty_range<std::future<int>, iteration::forward_by_reference>>);
static_assert(!std::ranges::forward_range<faulty_range<int, iteration::input_by_reference>>);
static_assert(std::ranges::input_range<faulty_range<std::future<int>, iteration::input_by_value>>);

/// The default executor: the call forms without an executor argument.
struct no_executor {};

template <class Combinator, class Ex, class... Args>
decltype(auto) call_on(const Combinator& combinator, Ex& ex, Args&&... args) {
  if constexpr (std::is_same_v<Ex, no_executor>)
    return combinator(std::forward<Args>(args)...);
  else
    return combinator(ex, std::forward<Args>(args)...);
}

/// Calls `call()`; returns the index of the element_fault it threw, or -1 when it returned.
/// Anything else it throws is recorded in `other` (a task's own rejection, an executor's
/// refusal).
template <class Call>
int element_fault_of(Call&& call, std::exception_ptr& other) {
  try {
    call();
  } catch (const element_fault& e) {
    return e.index;
  } catch (...) {
    other = std::current_exception();
  }
  return -1;
}

/// What a call that read every element (nothing threw) must return, for exact executors.
template <class Combinator, class Result>
void check_full_result(const Result& result, int n, bool lowest_wins) {
  using C = std::remove_cvref_t<Combinator>;
  const auto value = [](const auto& v) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(v)>, settle_test::counted>)
      return v.value();
    else
      return static_cast<int>(v);
  };
  if constexpr (std::is_same_v<C, std::remove_cvref_t<decltype(settle::all_settled)>>) {
    REQUIRE(result.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) CHECK(value(result[static_cast<std::size_t>(i)].value()) == i);
  } else if constexpr (std::is_same_v<C, std::remove_cvref_t<decltype(settle::all)>>) {
    REQUIRE(result.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) CHECK(value(result[static_cast<std::size_t>(i)]) == i);
  } else {
    CHECK((value(result) >= 0 && value(result) < n));
    if (lowest_wins) CHECK(value(result) == 0);
  }
}

/// One combinator, one executor, one way of iterating: every (n, k) for every form.
template <iteration How, class Combinator, class Ex>
void element_fault_rounds(const Combinator& combinator, Ex& ex, bool exact, long long& thrown) {
  constexpr int never = -1;
  for (int n = 1; n <= 5; ++n) {
    for (int k = 0; k <= n; ++k) {  // k == n: nothing throws, the control round
      const bool faults = k < n;
      for (int form = 0; form < 5; ++form) {
        INFO("n = " << n << ", element " << k << (faults ? " throws" : " (none throws)")
                    << ", form " << form << ", iteration " << static_cast<int>(How));
        settle_test::counters counters;
        task_log log(n);
        std::exception_ptr other;
        int fault = never;
        // Forms 0 and 1: a range of tasks, read (0) or copied (1) with a fault at k.
        // Form 2: map over the same elements, read with a fault at k.
        if (form <= 2) {
          const int copy_throws_at = form == 1 ? k : never;
          std::vector<element_probe> backing;
          backing.reserve(static_cast<std::size_t>(n));
          for (int i = 0; i < n; ++i) backing.emplace_back(log, counters, copy_throws_at, i);
          const faulty_range<element_probe, How> range(backing, form == 1 ? never : k);
          fault = element_fault_of(
              [&] {
                if (form == 2) {
                  const auto fn = [](const element_probe& p) { return p(); };
                  const auto result = call_on(combinator, ex, range, fn);
                  if (exact && !faults) check_full_result<Combinator>(result, n, false);
                } else {
                  const auto result = call_on(combinator, ex, range);
                  if (exact && !faults) check_full_result<Combinator>(result, n, false);
                }
              },
              other);
        } else {
          // Forms 3 and 4: a range of std::future (moved from) or std::shared_future (copied).
          // Even elements are ready; odd ones are fulfilled after the call (all of them
          // before it in the control round, which would wait for them).
          std::vector<std::promise<settle_test::counted>> promises(static_cast<std::size_t>(n));
          const auto fulfil = [&](int i) {
            promises[static_cast<std::size_t>(i)].set_value(settle_test::counted(counters, i));
          };
          for (int i = 0; i < n; ++i)
            if (i % 2 == 0 || !faults) fulfil(i);
          if (form == 3) {
            std::vector<std::future<settle_test::counted>> backing;
            for (auto& p : promises) backing.push_back(p.get_future());
            faulty_range<std::future<settle_test::counted>, How> range(backing, k);
            fault = element_fault_of(
                [&] {
                  const auto result = call_on(combinator, ex, std::move(range));
                  if (exact && !faults) check_full_result<Combinator>(result, n, true);
                },
                other);
          } else {
            std::vector<std::shared_future<settle_test::counted>> backing;
            for (auto& p : promises) backing.push_back(p.get_future().share());
            const faulty_range<std::shared_future<settle_test::counted>, How> range(backing, k);
            fault = element_fault_of(
                [&] {
                  const auto result = call_on(combinator, ex, range);
                  if (exact && !faults) check_full_result<Combinator>(result, n, true);
                },
                other);
          }
          for (int i = 1; i < n; i += 2)
            if (faults) fulfil(i);
        }
        // The element's exception, unchanged, exactly when an element throws.
        CHECK(fault == (faults ? k : never));
        if (faults || exact) CHECK(!other);
        // No task runs on after the call, none ran twice, and every started one returned.
        CHECK(log.running.load() == 0);
        CHECK(log.finished.load() == log.started_total());
        for (int i = 0; i < n; ++i) CHECK(log.started_at(i) <= 1);
        CHECK(counters.live() == 0);
        CHECK(counters.destroyed_twice.load() == 0);
        thrown += faults ? 1 : 0;
      }
    }
  }
}

template <class Combinator, class Ex>
void element_fault_iterations(const Combinator& combinator, Ex& ex, bool exact, long long& thrown) {
  element_fault_rounds<iteration::forward_by_reference>(combinator, ex, exact, thrown);
  element_fault_rounds<iteration::input_by_reference>(combinator, ex, exact, thrown);
  element_fault_rounds<iteration::input_by_value>(combinator, ex, exact, thrown);
}

template <class Ex>
void element_fault_combinators(Ex& ex, bool exact, long long& thrown) {
  element_fault_iterations(settle::all_settled, ex, exact, thrown);
  element_fault_iterations(settle::all, ex, exact, thrown);
  element_fault_iterations(settle::any, ex, exact, thrown);
  element_fault_iterations(settle::race, ex, exact, thrown);
}

TEST_CASE(
    "a range element that throws when read or copied: its exception propagates unchanged from "
    "every position of every range form, and no task runs on or leaks",
    "[stress][faults]") {
  long long thrown = 0;
  SECTION("on the default executor") {
    no_executor ex;
    element_fault_combinators(ex, true, thrown);
  }
  SECTION("on thread_pool(1)") {
    settle::thread_pool ex(1);
    element_fault_combinators(ex, true, thrown);
  }
  SECTION("on thread_pool(2)") {
    settle::thread_pool ex(2);
    element_fault_combinators(ex, true, thrown);
  }
  SECTION("on the inline executor") {
    settle::inline_executor ex;
    element_fault_combinators(ex, true, thrown);
  }
  SECTION("on an executor that refuses its second task") {
    settle::thread_pool pool(2);
    settle_test::refusing_executor<settle::thread_pool> ex(pool, 1);
    element_fault_combinators(ex, false, thrown);
  }
  report_figure("range elements that threw: " + std::to_string(thrown));
}

}  // namespace
