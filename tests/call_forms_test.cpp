// Every task shape (SPEC §2) and every map-function shape (§3) through every call form of the
// four combinators (§3): variadic, range of tasks and map, each without an executor (the
// default one, a settle pool) and with one (inline_executor: the path of any other executor;
// a thread_pool for some). Ranges: vector, list, forward_list (unsized), deque, a plain array,
// a single-pass input range and std::span. A template sweep over type lists: the instantiations
// are the compile-time check, and each one runs and checks the values that come back.
#include <settle/settle.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <forward_list>
#include <functional>
#include <future>
#include <iterator>
#include <list>
#include <memory>
#include <ranges>
#include <span>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "support/catch.hpp"

namespace {

template <class... Ts>
struct type_list {};

// ---- the four combinators and the executors ------------------------------------------------

/// A combinator as a type; `one_value`: it returns one task's value (any, race).
template <const auto& Combinator, bool OneValue>
struct form {
  static constexpr const auto& call = Combinator;
  static constexpr bool one_value = OneValue;
};
using combinators = type_list<form<settle::all_settled, false>, form<settle::all, false>,
                              form<settle::any, true>, form<settle::race, true>>;

/// The forms without an executor argument (the default executor).
struct no_executor {};

/// Runs `sweep(ex)` in one section per executor: none, inline_executor (the path every other
/// executor takes), and a thread_pool passed explicitly.
template <class Sweep>
void on_each_executor(Sweep sweep) {
  SECTION("without an executor") {
    no_executor ex;
    sweep(ex);
  }
  SECTION("with inline_executor") {
    settle::inline_executor ex;
    sweep(ex);
  }
  SECTION("with a thread_pool") {
    settle::thread_pool ex(2);
    sweep(ex);
  }
}

/// `C::call(args...)`, or `C::call(ex, args...)` with an executor.
template <class C, class Ex, class... Args>
decltype(auto) call_form(Ex& ex, Args&&... args) {
  if constexpr (std::is_same_v<Ex, no_executor>)
    return C::call(std::forward<Args>(args)...);
  else
    return C::call(ex, std::forward<Args>(args)...);
}

// ---- results as ints: a void result counts as 7 -------------------------------------------

int as_int(int v) { return v; }
int as_int(std::monostate) { return 7; }
int as_int(const settle::settled<int>& s) { return s.value(); }
int as_int(const settle::settled<void>& s) {
  s.value();  // rethrows a rejection
  return 7;
}
template <class... Ts>
std::vector<int> as_ints(const std::tuple<Ts...>& t) {
  return std::apply([](const auto&... v) { return std::vector<int>{as_int(v)...}; }, t);
}
template <class T>
std::vector<int> as_ints(const std::vector<T>& v) {
  std::vector<int> out;
  for (const auto& x : v) out.push_back(as_int(x));
  return out;
}

/// Runs `call` (a combinator call) and checks what it returns against `expected`: every value
/// in order, or for any/race one of them.
template <class C, class Call>
void check_call(Call&& call, const std::vector<int>& expected) {
  if constexpr (C::one_value) {
    int v = 7;
    if constexpr (std::is_void_v<decltype(call())>)
      call();
    else
      v = as_int(call());
    CHECK(std::find(expected.begin(), expected.end(), v) != expected.end());
  } else {
    CHECK(as_ints(call()) == expected);
  }
}

// ---- task shapes: each makes a callable whose result is 7 (or void) ---------------------

int seven() { return 7; }
int seven_with_token(std::stop_token) { return 7; }

// clang-format off
struct rvalue_call { int operator()() && { return 7; } };
struct const_lvalue_call { int operator()() const& { return 7; } };
struct rvalue_call_with_token { int operator()(std::stop_token) && { return 7; } };
struct plain_lambda { static auto make() { return [] { return 7; }; } };
struct mutable_lambda { static auto make() { return [n = 6]() mutable { return ++n; }; } };
struct void_lambda { static auto make() { return [] {}; } };
struct reference_result { static auto make() { return []() -> const int& { static const int v = 7; return v; }; } };
struct token_by_value { static auto make() { return [](std::stop_token t) { return t.stop_requested() ? 0 : 7; }; } };
struct token_by_const_ref { static auto make() { return [](const std::stop_token& t) { return t.stop_requested() ? 0 : 7; }; } };
struct token_by_rvalue_ref { static auto make() { return [](std::stop_token&& t) { return t.stop_requested() ? 0 : 7; }; } };
struct generic_token { static auto make() { return [](auto token) { return token.stop_requested() ? 0 : 7; }; } };
struct rvalue_qualified { static auto make() { return rvalue_call{}; } };
struct const_lvalue_qualified { static auto make() { return const_lvalue_call{}; } };
struct rvalue_qualified_with_token { static auto make() { return rvalue_call_with_token{}; } };
struct function_pointer { static auto make() { return &seven; } };
struct function_pointer_with_token { static auto make() { return &seven_with_token; } };
struct std_function { static auto make() { return std::function<int()>(seven); } };
struct std_function_with_token { static auto make() { return std::function<int(std::stop_token)>(seven_with_token); } };
struct move_only_lambda { static auto make() { return [p = std::make_unique<int>(7)] { return *p; }; } };
struct ready_future { static auto make() { std::promise<int> p; p.set_value(7); return p.get_future(); } };
struct ready_shared_future { static auto make() { return ready_future::make().share(); } };
struct ready_void_future { static auto make() { std::promise<void> p; p.set_value(); return p.get_future(); } };
// clang-format on

using copyable_task_shapes =
    type_list<plain_lambda, mutable_lambda, void_lambda, reference_result, token_by_value,
              token_by_const_ref, token_by_rvalue_ref, generic_token, rvalue_qualified,
              const_lvalue_qualified, rvalue_qualified_with_token, function_pointer,
              function_pointer_with_token, std_function, std_function_with_token>;

/// Variadic form: two tasks of the shape, as rvalues, and as an lvalue (copied) and an rvalue.
template <class C, class Shape, class Ex>
void variadic_form(Ex& ex) {
  check_call<C>([&] { return call_form<C>(ex, Shape::make(), Shape::make()); }, {7, 7});
  auto lvalue = Shape::make();
  if constexpr (std::is_copy_constructible_v<decltype(lvalue)>)
    check_call<C>([&] { return call_form<C>(ex, lvalue, Shape::make()); }, {7, 7});
}

/// Range form over a vector of the shape: as an lvalue (copied from) and as an rvalue (moved).
template <class C, class Shape, class Ex>
void range_form(Ex& ex) {
  using task_type = decltype(Shape::make());
  std::vector<task_type> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(Shape::make());
  if constexpr (std::is_copy_constructible_v<task_type>)
    check_call<C>([&] { return call_form<C>(ex, tasks); }, {7, 7, 7});
  check_call<C>([&] { return call_form<C>(ex, std::move(tasks)); }, {7, 7, 7});
}

template <class C, class Ex, class... Shapes>
void task_shapes(Ex& ex, type_list<Shapes...>) {
  (variadic_form<C, Shapes>(ex), ...);
  (range_form<C, Shapes>(ex), ...);
}

template <class Ex, class... Cs>
void task_sweep(Ex& ex, type_list<Cs...>) {
  (task_shapes<Cs>(ex, copyable_task_shapes{}), ...);
  (task_shapes<Cs>(
       ex, type_list<move_only_lambda, ready_future, ready_shared_future, ready_void_future>{}),
   ...);
  // All the copyable shapes in one variadic call: results of different types.
  (check_call<Cs>(
       [&] {
         return call_form<Cs>(
             ex, plain_lambda::make(), token_by_value::make(), token_by_rvalue_ref::make(),
             generic_token::make(), rvalue_qualified::make(), const_lvalue_qualified::make(),
             function_pointer::make(), std_function_with_token::make(), seven, seven_with_token);
       },
       std::vector<int>(10, 7)),
   ...);
}

TEST_CASE("every task shape through the variadic and range forms of every combinator",
          "[call_forms]") {
  on_each_executor([](auto& ex) { task_sweep(ex, combinators{}); });
}

// ---- map-function shapes: each maps x to x + 1 (or returns void) --------------------------

int plus_one(int x) { return x + 1; }
int plus_one_with_token(std::stop_token, int x) { return x + 1; }

/// A map shape: `make()` the function, `expected(x)` what it gives for element x.
template <class Make, bool Void = false>
struct map_shape {
  static auto make() { return Make{}(); }
  static int expected(int x) { return Void ? 7 : x + 1; }
};

// clang-format off
struct const_lvalue_map { int operator()(int x) const& { return x + 1; } };
struct by_value { auto operator()() const { return [](int x) { return x + 1; }; } };
struct by_const_ref { auto operator()() const { return [](const int& x) { return x + 1; }; } };
struct by_mutable_ref { auto operator()() const { return [](int& x) { return x + 1; }; } };
struct converting { auto operator()() const { return [](long x) { return static_cast<int>(x) + 1; }; } };
struct generic_value { auto operator()() const { return [](auto x) { return x + 1; }; } };
struct generic_ref { auto operator()() const { return [](auto& x) { return x + 1; }; } };
struct generic_const_ref { auto operator()() const { return [](const auto& x) { return x + 1; }; } };
struct generic_forwarding { auto operator()() const { return [](auto&& x) { return x + 1; }; } };
struct void_result { auto operator()() const { return [](int) {}; } };
struct token_value { auto operator()() const { return [](std::stop_token, int x) { return x + 1; }; } };
struct token_const_ref { auto operator()() const { return [](const std::stop_token&, int x) { return x + 1; }; } };
struct token_rvalue_ref { auto operator()() const { return [](std::stop_token&&, int x) { return x + 1; }; } };
struct token_generic { auto operator()() const { return [](auto token, auto x) { return token.stop_requested() ? 0 : x + 1; }; } };
struct token_generic_ref { auto operator()() const { return [](auto token, auto& x) { return token.stop_requested() ? 0 : x + 1; }; } };
struct map_function_pointer { auto operator()() const { return &plus_one; } };
struct map_function_pointer_with_token { auto operator()() const { return &plus_one_with_token; } };
struct map_std_function { auto operator()() const { return std::function<int(int)>(plus_one); } };
struct map_std_function_with_token { auto operator()() const { return std::function<int(std::stop_token, int)>(plus_one_with_token); } };
struct map_const_lvalue_qualified { auto operator()() const { return const_lvalue_map{}; } };
// clang-format on

using map_shapes =
    type_list<map_shape<by_value>, map_shape<by_const_ref>, map_shape<by_mutable_ref>,
              map_shape<converting>, map_shape<generic_value>, map_shape<generic_ref>,
              map_shape<generic_const_ref>, map_shape<generic_forwarding>,
              map_shape<void_result, true>, map_shape<token_value>, map_shape<token_const_ref>,
              map_shape<token_rvalue_ref>, map_shape<token_generic>, map_shape<token_generic_ref>,
              map_shape<map_function_pointer>, map_shape<map_function_pointer_with_token>,
              map_shape<map_std_function>, map_shape<map_std_function_with_token>,
              map_shape<map_const_lvalue_qualified>>;

// ---- ranges of elements: each calls f(range) with the elements 1, 2, 3 -------------------

/// A single-pass range as C++20 allows it: a move-only input iterator, a sentinel of another
/// type, no size. Its elements are lvalues of the caller's storage.
template <class T>
class single_pass {
 public:
  explicit single_pass(std::vector<T>& items) : items_(&items) {}

  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    explicit iterator(std::vector<T>* items) : items_(items) {}
    iterator(iterator&&) = default;
    iterator& operator=(iterator&&) = default;
    iterator(const iterator&) = delete;
    iterator& operator=(const iterator&) = delete;

    T& operator*() const { return (*items_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    void operator++(int) { ++i_; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) {
      return it.i_ == it.items_->size();
    }

   private:
    std::vector<T>* items_;
    std::size_t i_ = 0;
  };

  [[nodiscard]] iterator begin() { return iterator(items_); }
  [[nodiscard]] std::default_sentinel_t end() { return {}; }

 private:
  std::vector<T>* items_;
};
static_assert(std::ranges::input_range<single_pass<int>>);
static_assert(!std::ranges::forward_range<single_pass<int>>);
static_assert(!std::ranges::sized_range<single_pass<int>>);

/// Each range kind: `with<T>(make, f)` builds three elements make(0..2) and calls f(range).
template <template <class...> class Container>
struct in_container {
  template <class T, class Make, class F>
  static void with(Make make, F f) {
    Container<T> r;
    for (int i = 0; i < 3; ++i) r.push_back(make(i));
    f(r);
  }
};
using in_vector = in_container<std::vector>;
using in_list = in_container<std::list>;
using in_deque = in_container<std::deque>;
struct in_forward_list {
  template <class T, class Make, class F>
  static void with(Make make, F f) {
    std::forward_list<T> r;
    for (int i = 3; i-- > 0;) r.push_front(make(i));
    f(r);
  }
};
struct in_array {
  template <class T, class Make, class F>
  static void with(Make make, F f) {
    T r[3] = {make(0), make(1), make(2)};
    f(r);
  }
};
/// The single-pass range (`single_pass`) and std::span, over a vector of the elements.
template <template <class> class View>
struct in_view {
  template <class T, class Make, class F>
  static void with(Make make, F f) {
    std::vector<T> items;
    for (int i = 0; i < 3; ++i) items.push_back(make(i));
    View<T> r(items);
    f(r);
  }
};
template <class T>
using span_of = std::span<T>;
using in_single_pass = in_view<single_pass>;
using in_span = in_view<span_of>;
using range_kinds =
    type_list<in_vector, in_list, in_forward_list, in_deque, in_array, in_single_pass, in_span>;

// ---- the map form -------------------------------------------------------------------------

template <class C, class Shape, class Range, class Ex>
void map_form(Ex& ex) {
  const std::vector<int> expected{Shape::expected(1), Shape::expected(2), Shape::expected(3)};
  const auto fn = Shape::make();
  Range::template with<int>([](int i) { return i + 1; },
                            [&](auto&& range) {
                              check_call<C>([&] { return call_form<C>(ex, range, fn); }, expected);
                              check_call<C>([&] { return call_form<C>(ex, range, Shape::make()); },
                                            expected);
                            });
}

template <class C, class Range, class Ex, class... Shapes>
void map_shapes_over(Ex& ex, type_list<Shapes...>) {
  (map_form<C, Shapes, Range>(ex), ...);
}

template <class Ex, class... Cs>
void map_sweep(Ex& ex, type_list<Cs...>) {
  (map_shapes_over<Cs, in_vector>(ex, map_shapes{}), ...);
}

TEST_CASE("every map-function shape through the map form of every combinator", "[call_forms]") {
  on_each_executor([](auto& ex) { map_sweep(ex, combinators{}); });
}

// ---- every range kind, for tasks and for maps ------------------------------------------

template <class C, class Range, class Shape, class Ex>
void task_range_form(Ex& ex) {
  using task_type = decltype(Shape::make());
  Range::template with<task_type>(
      [](int) { return Shape::make(); },
      [&](auto&& range) { check_call<C>([&] { return call_form<C>(ex, range); }, {7, 7, 7}); });
}

template <class C, class Ex, class... Ranges>
void every_range(Ex& ex, type_list<Ranges...>) {
  (task_range_form<C, Ranges, plain_lambda>(ex), ...);
  (task_range_form<C, Ranges, token_by_value>(ex), ...);
  (task_range_form<C, Ranges, generic_token>(ex), ...);
  (map_form<C, map_shape<by_value>, Ranges>(ex), ...);
  (map_form<C, map_shape<by_mutable_ref>, Ranges>(ex), ...);
  (map_form<C, map_shape<generic_value>, Ranges>(ex), ...);
  (map_form<C, map_shape<generic_ref>, Ranges>(ex), ...);
  (map_form<C, map_shape<token_generic_ref>, Ranges>(ex), ...);
}

template <class Ex, class... Cs>
void range_sweep(Ex& ex, type_list<Cs...>) {
  (every_range<Cs>(ex, range_kinds{}), ...);
}

TEST_CASE("every range kind through the range and map forms of every combinator", "[call_forms]") {
  on_each_executor([](auto& ex) { range_sweep(ex, combinators{}); });
}

// ---- pointers to members as map functions -----------------------------------------------

/// The map concept accepts whatever std::invoke can call with an element, so a pointer to a
/// member function or to a data member maps a range of objects.
struct item {
  int value;
  int next;
  [[nodiscard]] int plus_one() const { return value + 1; }
};

template <class C, class Range, class Ex>
void member_pointer_forms(Ex& ex) {
  Range::template with<item>(
      [](int i) { return item{i + 1, i + 2}; },
      [&](auto&& range) {
        check_call<C>([&] { return call_form<C>(ex, range, &item::plus_one); }, {2, 3, 4});
        check_call<C>([&] { return call_form<C>(ex, range, &item::next); }, {2, 3, 4});
      });
}

template <class Ex, class... Cs>
void member_pointer_sweep(Ex& ex, type_list<Cs...>) {
  (member_pointer_forms<Cs, in_vector>(ex), ...);
  (member_pointer_forms<Cs, in_single_pass>(ex), ...);
}

TEST_CASE("pointers to members as map functions, in every combinator", "[call_forms]") {
  on_each_executor([](auto& ex) { member_pointer_sweep(ex, combinators{}); });
}

// ---- executors passed in every way ------------------------------------------------------

TEST_CASE("an executor passed as a temporary, as const or through a reference", "[call_forms]") {
  const settle::inline_executor const_ex;
  settle::thread_pool pool(1);
  settle::thread_pool& pool_ref = pool;
  const std::vector<int> xs{1, 2, 3};
  CHECK(as_ints(settle::all(
            settle::inline_executor{}, [] { return 1; }, [] { return 2; })) ==
        std::vector<int>{1, 2});
  CHECK(as_ints(settle::all_settled(const_ex, xs, plus_one)) == std::vector<int>{2, 3, 4});
  CHECK(settle::any(const_ex, std::vector<std::function<int()>>{seven}) == 7);
  CHECK(settle::race(settle::inline_executor{}, xs, [](std::stop_token, int x) { return x; }) == 1);
  CHECK(as_ints(settle::all(pool_ref, xs, [](auto x) { return x * 2; })) ==
        std::vector<int>{2, 4, 6});
}

}  // namespace
