// Shared by the stress tests: sanitizer detection (to size runs), the scale knob for long
// local runs, executors that refuse or drop work on purpose, and a registry that proves
// every object is destroyed exactly once.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace settle_stress {

// ---- sanitizers ---------------------------------------------------------------------------

// GCC defines __SANITIZE_THREAD__ / __SANITIZE_ADDRESS__; Clang answers __has_feature.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool under_thread_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool under_thread_sanitizer = true;
#else
inline constexpr bool under_thread_sanitizer = false;
#endif
#else
inline constexpr bool under_thread_sanitizer = false;
#endif

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_address_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool under_address_sanitizer = true;
#else
inline constexpr bool under_address_sanitizer = false;
#endif
#else
inline constexpr bool under_address_sanitizer = false;
#endif

/// $SETTLE_STRESS_SCALE (default 1): a multiplier for the long local runs.
[[nodiscard]] inline int scale() {
  if (const char* env = std::getenv("SETTLE_STRESS_SCALE")) {
    const long v = std::strtol(env, nullptr, 10);
    if (v > 0 && v < 100000) return static_cast<int>(v);
  }
  return 1;
}

/// One line of figures on stdout, for the README ("stress figure: ...").
inline void report_figure(const std::string& line) {
  std::printf("stress figure: %s\n", line.c_str());
  std::fflush(stdout);
}

// ---- faults -------------------------------------------------------------------------------

enum class fault_type { runtime_error, bad_alloc, foreign };

/// Thrown by a faulty_executor (runtime_error flavour); `call` is its 1-based execute call.
struct injected_fault : std::runtime_error {
  explicit injected_fault(int c)
      : std::runtime_error("injected fault on execute call " + std::to_string(c)), call(c) {}
  int call;
};
/// The same, from outside the std::exception hierarchy.
struct foreign_fault {
  int call;
};

/// Which execute call threw `e` (any fault_type); std::bad_alloc carries none: 0.
/// -1 when `e` is no injected fault.
[[nodiscard]] inline int fault_call(const std::exception_ptr& e) {
  if (!e) return -1;
  try {
    std::rethrow_exception(e);
  } catch (const injected_fault& f) {
    return f.call;
  } catch (const foreign_fault& f) {
    return f.call;
  } catch (const std::bad_alloc&) {
    return 0;
  } catch (...) {
    return -1;
  }
}

/// Forwards jobs to `inner`, except that its `fail_at`-th execute call (1-based) throws,
/// or, with `and_after`, that call and every later one. Copies share the counts.
template <class Inner>
class faulty_executor {
 public:
  faulty_executor(Inner& inner, int fail_at, bool and_after, fault_type type)
      : inner_(&inner), state_(std::make_shared<state>()) {
    state_->fail_at = fail_at;
    state_->and_after = and_after;
    state_->type = type;
  }

  template <class F>
  void execute(F&& f) const {
    const int call = state_->calls.fetch_add(1) + 1;
    if (call == state_->fail_at || (state_->and_after && call > state_->fail_at)) {
      state_->refused.fetch_add(1);
      switch (state_->type) {
        case fault_type::runtime_error:
          throw injected_fault(call);
        case fault_type::bad_alloc:
          throw std::bad_alloc();
        case fault_type::foreign:
          throw foreign_fault{call};
      }
    }
    inner_->execute(std::forward<F>(f));
  }

  [[nodiscard]] int calls() const { return state_->calls.load(); }
  [[nodiscard]] int refused() const { return state_->refused.load(); }

 private:
  struct state {
    std::atomic<int> calls{0};
    std::atomic<int> refused{0};
    int fail_at = 0;
    bool and_after = false;
    fault_type type = fault_type::runtime_error;
  };
  Inner* inner_;
  std::shared_ptr<state> state_;
};

/// Destroys its `drop_at`-th job (1-based) without running it, and runs the others on
/// `inner`. With `later`, the doomed job is handed to a reaper thread that destroys it
/// after `execute` has returned (the job then settles its slot from that thread).
template <class Inner>
class dropping_executor {
 public:
  dropping_executor(Inner& inner, int drop_at, bool later)
      : inner_(&inner), state_(std::make_shared<state>()) {
    state_->drop_at = drop_at;
    state_->later = later;
  }

  template <class F>
  void execute(F&& f) const {
    using job_type = std::decay_t<F>;
    const int call = state_->calls.fetch_add(1) + 1;
    if (call != state_->drop_at) {
      inner_->execute(std::forward<F>(f));
      return;
    }
    state_->dropped.fetch_add(1);
    auto doomed = std::make_shared<job_type>(std::forward<F>(f));
    if (!state_->later) return;  // destroyed here, inside execute
    std::lock_guard lock(state_->mutex);
    state_->reapers.emplace_back([doomed = std::move(doomed)]() mutable { doomed.reset(); });
  }

  /// Joins the reaper threads (call before the executor's last copy goes away).
  void join() const {
    std::lock_guard lock(state_->mutex);
    for (auto& t : state_->reapers) t.join();
    state_->reapers.clear();
  }

  [[nodiscard]] int calls() const { return state_->calls.load(); }
  [[nodiscard]] int dropped() const { return state_->dropped.load(); }

 private:
  struct state {
    std::atomic<int> calls{0};
    std::atomic<int> dropped{0};
    int drop_at = 0;
    bool later = false;
    std::mutex mutex;
    std::vector<std::thread> reapers;
  };
  Inner* inner_;
  std::shared_ptr<state> state_;
};

// ---- lifetimes ----------------------------------------------------------------------------

/// Every object of a probe type registers its address when constructed and removes it
/// when destroyed. Destroying an unregistered object (twice, or never constructed) and
/// constructing over a live one are errors; what is still registered at the end was
/// never destroyed. Thread-safe.
class lifetime_registry {
 public:
  void born(const void* p, const char* what) {
    std::lock_guard lock(mutex_);
    if (!live_.insert(p).second)
      errors_.push_back(std::string(what) + " constructed over a live object");
    ++constructed_;
  }
  void died(const void* p, const char* what) {
    std::lock_guard lock(mutex_);
    if (live_.erase(p) == 0)
      errors_.push_back(std::string(what) + " destroyed twice (or never constructed)");
  }
  void error(std::string what) {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::move(what));
  }
  [[nodiscard]] std::size_t live() const {
    std::lock_guard lock(mutex_);
    return live_.size();
  }
  [[nodiscard]] long long constructed() const {
    std::lock_guard lock(mutex_);
    return constructed_;
  }
  [[nodiscard]] std::vector<std::string> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  mutable std::mutex mutex_;
  std::set<const void*> live_;
  std::vector<std::string> errors_;
  long long constructed_ = 0;
};

}  // namespace settle_stress
