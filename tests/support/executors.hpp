// Executors for tests: a manual executor that stores jobs and runs them when and in the
// order a test says, and a refusing executor whose execute throws on its k-th call.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace settle_test {

/// A type-erased, move-only `void()` callable (std::function needs copyable targets).
class job {
 public:
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, job>)
  explicit job(F&& f) : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}
  job(job&&) noexcept = default;
  job& operator=(job&&) noexcept = default;

  void operator()() { impl_->run(); }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void run() = 0;
  };
  template <class F>
  struct model final : concept_t {
    explicit model(F&& f) : fn(std::move(f)) {}
    explicit model(const F& f) : fn(f) {}
    void run() override { fn(); }
    F fn;
  };
  std::unique_ptr<concept_t> impl_;
};

/// Stores every job it is given; the test runs them, by submission index, on the thread
/// it likes. Copies share one queue, so a combinator may take it by value or by reference.
/// Jobs never run are destroyed with the last copy.
class manual_executor {
 public:
  template <class F>
  void execute(F&& f) const {
    {
      std::lock_guard lock(state_->mutex);
      state_->jobs.emplace_back(job(std::forward<F>(f)));
    }
    state_->cv.notify_all();
  }

  /// Jobs submitted so far (run or not).
  [[nodiscard]] std::size_t submitted() const {
    std::lock_guard lock(state_->mutex);
    return state_->jobs.size();
  }

  /// Blocks until at least `n` jobs have been submitted.
  void wait_for_submissions(std::size_t n) const {
    std::unique_lock lock(state_->mutex);
    state_->cv.wait(lock, [&] { return state_->jobs.size() >= n; });
  }

  /// Runs the job submitted `index`-th (from 0) on the calling thread, once. Returns
  /// false when there is no such job or it already ran.
  bool run(std::size_t index) const {
    std::optional<job> j;
    {
      std::lock_guard lock(state_->mutex);
      if (index >= state_->jobs.size() || !state_->jobs[index]) return false;
      j = std::move(state_->jobs[index]);
      state_->jobs[index].reset();
    }
    (*j)();
    return true;
  }

  /// Destroys the job submitted `index`-th without running it.
  void drop(std::size_t index) const {
    std::optional<job> j;  // destroyed after the lock is released
    std::lock_guard lock(state_->mutex);
    if (index >= state_->jobs.size()) return;
    j = std::move(state_->jobs[index]);
    state_->jobs[index].reset();
  }

  /// Runs every job not run yet, in submission order (including ones submitted meanwhile).
  void run_all() const {
    for (std::size_t i = 0; i < submitted(); ++i) run(i);
  }

 private:
  struct state {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::optional<job>> jobs;
  };
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

/// Calls `call()` on this thread (typically a combinator over `ex`) while another thread
/// waits for `n` submissions to `ex` and then runs them in `order` (submission indices).
/// Combinators submit every task before they wait, so the runner never waits forever
/// on a correct library. Returns what `call()` returns; an exception from `call()`
/// propagates once the runner has finished.
template <class Call>
decltype(auto) drive(const manual_executor& ex, std::size_t n, std::vector<std::size_t> order,
                     Call&& call) {
  std::thread runner([&ex, n, order = std::move(order)] {
    ex.wait_for_submissions(n);
    for (std::size_t index : order) ex.run(index);
  });
  struct joiner {
    std::thread& t;
    ~joiner() { t.join(); }
  } join_at_exit{runner};
  return std::forward<Call>(call)();
}

/// A runner thread for tests of tasks that must never start: it waits for `n`
/// submissions to `ex`, runs the jobs in `first` (which settle the combinator), then waits
/// until the test calls `finish()` (after the combinator has returned) before running the
/// jobs in `then`. A correct combinator returns without waiting for `then`; should it wait
/// anyway, the runner goes on after 10 s so the test fails on its checks instead of hanging.
class staged_runner {
 public:
  staged_runner(const manual_executor& ex, std::size_t n, std::vector<std::size_t> first,
                std::vector<std::size_t> then)
      : thread_([this, ex, n, first = std::move(first), then = std::move(then)] {
          ex.wait_for_submissions(n);
          for (std::size_t index : first) ex.run(index);
          {
            std::unique_lock lock(mutex_);
            if (!cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; }))
              timed_out_ = true;
          }
          for (std::size_t index : then) ex.run(index);
        }) {}
  staged_runner(const staged_runner&) = delete;
  staged_runner& operator=(const staged_runner&) = delete;
  ~staged_runner() { finish(); }

  /// Lets the runner run the `then` jobs and waits for it.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  /// True when the combinator kept the runner waiting until the 10 s fallback: it
  /// waited for a task that had not started.
  [[nodiscard]] bool timed_out() {
    std::lock_guard lock(mutex_);
    return timed_out_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
  bool timed_out_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

/// The exception a refusing_executor throws.
struct refused : std::runtime_error {
  explicit refused(std::size_t call) : std::runtime_error("executor refused job"), call(call) {}
  std::size_t call;
};

/// Forwards jobs to `inner`, except the `refuse_at`-th call of execute (from 0), which
/// throws `refused` without touching the job. An optional hook runs just before the
/// refusal, so a test can order the refusal after other events. Copies share the count.
template <class Inner>
class refusing_executor {
 public:
  refusing_executor(Inner& inner, std::size_t refuse_at, std::function<void()> before_refusal = {})
      : inner_(&inner),
        refuse_at_(refuse_at),
        before_refusal_(std::move(before_refusal)),
        calls_(std::make_shared<std::atomic<std::size_t>>(0)) {}

  template <class F>
  void execute(F&& f) const {
    const std::size_t call = calls_->fetch_add(1);
    if (call == refuse_at_) {
      if (before_refusal_) before_refusal_();
      throw refused(call);
    }
    inner_->execute(std::forward<F>(f));
  }

  [[nodiscard]] std::size_t calls() const { return calls_->load(); }

 private:
  Inner* inner_;
  std::size_t refuse_at_;
  std::function<void()> before_refusal_;
  std::shared_ptr<std::atomic<std::size_t>> calls_;
};

}  // namespace settle_test
