// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_JOB_STATE_HPP
#define JOBRUNNER_DETAIL_JOB_STATE_HPP

// What the job's coroutines share: the two channels, the user's function and
// callbacks, the members, the counters, the end of input, and one object per
// policy (engaged only when its option is set). Each concern lives in its
// own header; this one only puts them together.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/done_event.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_counters.hpp>
#include <jobrunner/detail/member_set.hpp>
#include <jobrunner/detail/policy/circuit_breaker.hpp>
#include <jobrunner/detail/policy/concurrency_limit.hpp>
#include <jobrunner/detail/policy/dispatch_gate.hpp>
#include <jobrunner/detail/policy/reorder.hpp>
#include <jobrunner/detail/policy/retry.hpp>
#include <jobrunner/detail/policy/retry_budget.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/job_summary.hpp>
#include <jobrunner/task_result.hpp>
#include <jobrunner/threading.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace jobrunner {
template <class Item, class Threading>
class Submitter;
} // namespace jobrunner

namespace jobrunner::detail {

using clock = std::chrono::steady_clock;

// Work messages are optional so that Item need not be default-constructible
// (the channel default-constructs payloads on cancellation). An empty message
// with a non-zero error code is an end-of-input marker or a retry_due().
template <class Item>
using work_message = std::optional<Item>;

// What a worker receives when a retry is due: "take one from the retry queue".
inline error_code retry_due() noexcept
{
  return asio::error::try_again;
}

// The input side of a job, which does not depend on the result type.
template <class Item, class Threading>
class job_core : public std::enable_shared_from_this<job_core<Item, Threading>>
{
public:
  using item_type = Item;
  using work_message_type = work_message<Item>;
  using work_channel = typename Threading::template channel<void(error_code, work_message<Item>)>;
  using producer_function = std::function<asio::awaitable<void>(Submitter<Item, Threading>&)>;

  job_core(asio::any_io_executor ex, const JobConfig& config)
      : open(config.retries_off_worker()), executor_(std::move(ex)), config_(config),
        work_(executor_, config.work_queue_capacity)
  {
    if (config.adaptive_concurrency.enabled)
      limit.emplace(config.workers, config.adaptive_concurrency);
  }
  virtual ~job_core() = default;

  bool cancel_requested() const noexcept
  {
    return cancel_requested_.load(std::memory_order_acquire);
  }

  // Idempotent and safe from any thread. Producers and workers observe the
  // flag; the emits interrupt the operations they are suspended in.
  void request_cancel() noexcept
  {
    if (cancel_requested_.exchange(true, std::memory_order_seq_cst))
      return;
    if (members.published())
      members.emit_all(alive());
    cancel_waits();
  }

  void publish_members() noexcept { members.publish(cancel_requested_, alive()); }

  // Wakes worker `w` (counted from 0) from a park.
  void wake_worker(std::size_t w) noexcept { members.wake(first_worker + w, alive()); }

  // Input is over: parked workers must come and take their end markers.
  void end_of_input() noexcept
  {
    if (limit)
      limit->end_of_input([this](std::size_t w) { wake_worker(w); });
  }

  // The order of taking, exact with ordered delivery (see receive_order).
  bool receive_pending() const noexcept { return config_.ordered_delivery && receives_.pending(); }
  void receive_started() noexcept { receives_.started(); }
  void receive_finished() noexcept { receives_.finished(); }

  const asio::any_io_executor& executor() const noexcept { return executor_; }
  const JobConfig& config() const noexcept { return config_; }
  work_channel& work() noexcept { return work_; }

  member_set members;
  std::size_t first_worker = 0; // producers come first among the members
  open_count open;
  input_counters<Threading::concurrent> input;
  producer_errors producer_failures;
  std::optional<policy::concurrency_limit> limit; // JobConfig::adaptive_concurrency
  std::vector<producer_function> producers;
  std::atomic<std::size_t> producers_left{0};
  std::atomic<bool> gave_up{false}; // circuit breaker (issue 14): it ended the job

protected:
  // Ends the waits that are not members' operations (retries).
  virtual void cancel_waits() noexcept {}
  std::shared_ptr<const void> alive() const noexcept { return this->shared_from_this(); }
  std::atomic<bool> cancel_requested_{false};

private:
  asio::any_io_executor executor_;
  JobConfig config_;
  work_channel work_;
  receive_order<Threading::concurrent> receives_;
};

// The whole job: the input side plus the function, the result channel, the
// callbacks and the policies.
template <class Item, class Result, class Threading>
class job_state : public job_core<Item, Threading>
{
public:
  using result_type = Result;
  using task_result = TaskResult<Item, Result>;
  using result_message = std::optional<task_result>;
  using result_channel = typename Threading::template channel<void(error_code, result_message)>;
  using async_function = std::function<asio::awaitable<Result>(Item&)>;
  using sync_function = std::function<Result(Item&)>;
  using task_callback = std::function<void(task_result&)>;
  using retry_predicate = std::function<bool(const task_result&)>;
  using job_callback = std::function<void(const JobSummary&)>;

  job_state(asio::any_io_executor ex, const JobConfig& config)
      : job_core<Item, Threading>(std::move(ex), config), gate(config),
        results_(this->executor(), config.result_queue_capacity)
  {
    if (config.ordered_delivery)
      window.emplace(config.window());
    if (config.circuit_breaker.enabled)
      breaker.emplace(config.circuit_breaker);
    if (config.retry_budget.enabled && config.retry.max_attempts > 1)
      budget.emplace(config.retry_budget);
  }

  // Whether a job needs the worker with policies (worker.hpp). Push-back is
  // always on, and the lean worker handles it too.
  bool uses_policies() const noexcept
  {
    const auto& c = this->config();
    return c.task_timeout.count() > 0 || c.rate_limit.per_second > 0 || c.retry.max_attempts > 1
           || c.ordered_delivery || c.adaptive_concurrency.enabled
           || c.circuit_breaker.enabled; // circuit breaker (issue 14)
  }

  result_channel& results() noexcept { return results_; }

  // --- policies -------------------------------------------------------------
  policy::dispatch_gate gate;                   // push-back pause, rate limit
  std::optional<policy::reorder_window> window; // ordered delivery
  policy::retry_queue<result_message> retries;  // retries off the workers
  counter<Threading::concurrent> retried;

  void create_retry_queue()
  {
    const auto ex = this->executor();
    retries.create(
        this->config().retry_slots(), [&ex] { return Threading::coroutine_executor(ex); },
        [this] {
          // Never cancelled (no slot bound, the channel never closed): it
          // completes when a worker has received it.
          this->work().async_send(retry_due(), work_message<Item>{}, [](error_code) {});
        },
        this->cancel_requested_);
    if (this->cancel_requested())
      retries.cancel_all(this->alive());
  }

  bool window_admits(std::uint64_t seq, std::size_t index)
  {
    return !window || window->admits(seq, index);
  }
  void window_delivered(std::uint64_t delivered)
  {
    window->delivered(delivered, [this](std::size_t i) { this->members.wake(i, this->alive()); });
  }

  // --- retry budget (issue 14) --------------------------------------------------
  struct locked_budget
  {
    explicit locked_budget(const JobConfig::RetryBudget& c) : budget(c) {}
    std::mutex mutex;
    policy::retry_budget budget;
  };
  std::optional<locked_budget> budget;
  counter<Threading::concurrent> retries_refused;

  void budget_first_attempt(clock::time_point now)
  {
    std::lock_guard lock(budget->mutex);
    budget->budget.on_first_attempt(now);
  }
  bool budget_allows_retry(clock::time_point now)
  {
    std::lock_guard lock(budget->mutex);
    return budget->budget.try_retry(now);
  }

  // --- circuit breaker (issue 14) ---------------------------------------------
  struct locked_breaker
  {
    explicit locked_breaker(const JobConfig::CircuitBreaker& c) : breaker(c) {}
    mutable std::mutex mutex;
    policy::circuit_breaker breaker;
  };
  std::optional<locked_breaker> breaker;
  std::function<bool(const task_result&)> breaker_failure; // set before the start
  std::exception_ptr unavailable_error;                    // written before gave_up is set

  policy::admission breaker_admit(clock::time_point now)
  {
    std::lock_guard lock(breaker->mutex);
    return breaker->breaker.admit(now);
  }

  // The outcome of an attempt admitted with `ticket`; wakes the waiting
  // workers when the breaker closed or gave a probe back.
  void breaker_outcome(std::uint64_t ticket, const task_result& r, bool pushed_back)
  {
    using policy::call_outcome;
    const auto o = pushed_back || r.status == task_status::cancelled ? call_outcome::neutral
                   : is_breaker_failure(r)                           ? call_outcome::failure
                                                                     : call_outcome::success;
    bool wake = false;
    {
      std::lock_guard lock(breaker->mutex);
      wake = breaker->breaker.on_outcome(ticket, o, clock::now());
    }
    if (wake)
      this->members.wake_breaker_waiters(this->first_worker, this->alive());
  }

  bool is_breaker_failure(const task_result& r) const noexcept
  {
    if (!breaker_failure)
      return r.status == task_status::failed || r.status == task_status::timed_out;
    try
    {
      return breaker_failure(r);
    }
    catch (...)
    {
      return true;
    }
  }

  // The breaker stayed open too long: the job ends, the rest is unavailable.
  void give_up() noexcept
  {
    if (giving_up_.exchange(true) || this->cancel_requested())
      return;
    try
    {
      unavailable_error = std::make_exception_ptr(
          boost::system::system_error(make_error_code(errc::service_unavailable)));
    }
    catch (...)
    {
      unavailable_error = std::current_exception();
    }
    this->gave_up.store(true, std::memory_order_release);
    this->request_cancel();
  }

  // A result of a job the breaker ended: what the cancellation cut short
  // (or never ran) is reported unavailable.
  void mark_unavailable(task_result& r) const noexcept
  {
    if (r.status != task_status::cancelled || !this->gave_up.load(std::memory_order_acquire))
      return;
    r.status = task_status::unavailable;
    if (!r.error)
      r.error = unavailable_error;
  }

  std::uint64_t breaker_opened() const
  {
    if (!breaker)
      return 0;
    std::lock_guard lock(breaker->mutex);
    return breaker->breaker.times_opened();
  }

  // The retry predicate; by default, failed or timed out. A predicate that
  // throws says no.
  bool is_retryable(const task_result& r) const noexcept
  {
    if (!retryable)
      return r.status == task_status::failed || r.status == task_status::timed_out;
    try
    {
      return retryable(r);
    }
    catch (...)
    {
      return false;
    }
  }

  // --- set once, before the job starts ---------------------------------------
  retry_predicate retryable;
  async_function async_fn;
  sync_function sync_fn;
  task_callback on_task;
  job_callback on_job;

  // --- life cycle -------------------------------------------------------------
  std::atomic<int> phase{0};         // 0 = not started, 1 = running, 2 = ended
  std::atomic<bool> launched{false}; // async_run initiated: the configuration is final
  std::atomic<bool> aborted{false};  // the failure budget was exceeded
  std::atomic<std::size_t> workers_left{0};
  std::atomic<std::size_t> live{0}; // coroutines still running
  clock::time_point start_time;
  done_event done; // the controller's wake-up
  // Written if an internal coroutine ever lets an exception out (it should
  // not); rethrown by the controller.
  std::atomic<bool> internal_error_set{false};
  std::exception_ptr internal_error;

  void abort() noexcept
  {
    aborted.store(true, std::memory_order_release);
    this->request_cancel();
  }

  result_counters outcomes; // written by the result handler only

  JobStats stats() const noexcept
  {
    JobStats s;
    const auto c = outcomes.counts();
    s.succeeded = c.succeeded;
    s.failed = c.failed;
    s.cancelled = c.cancelled;
    s.timed_out = c.timed_out;
    s.unavailable = c.unavailable;
    const auto taken = this->input.taken();
    s.submitted = this->input.submitted();
    s.queued = s.submitted > taken ? s.submitted - taken : 0;
    s.in_flight = taken > s.done() ? taken - s.done() : 0;
    s.concurrency_limit = this->limit ? this->limit->current() : this->config().workers;
    return s;
  }

  JobSummary make_summary() const
  {
    JobSummary s;
    s.status = aborted.load(std::memory_order_acquire)         ? job_status::aborted
               : this->gave_up.load(std::memory_order_acquire) ? job_status::unavailable
               : this->cancel_requested()                      ? job_status::cancelled
                                                               : job_status::completed;
    const auto c = outcomes.counts();
    s.submitted = this->input.submitted();
    s.succeeded = c.succeeded;
    s.failed = c.failed;
    s.cancelled = c.cancelled;
    s.timed_out = c.timed_out;
    s.unavailable = c.unavailable;
    s.breaker_opened = breaker_opened();
    s.retries_refused = retries_refused.load();
    s.retried = retried.load();
    s.paused = gate.paused_total();
    this->producer_failures.fill(s);
    s.callback_errors = outcomes.callback_errors;
    s.first_callback_error = outcomes.first_callback_error;
    s.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start_time);
    const auto secs = std::chrono::duration<double>(s.elapsed).count();
    s.items_per_second = secs > 0 ? static_cast<double>(s.submitted) / secs : 0.0;
    const auto& h = outcomes.latencies;
    s.latency.count = h.count();
    s.latency.p50 = std::chrono::nanoseconds(h.percentile(0.50));
    s.latency.p90 = std::chrono::nanoseconds(h.percentile(0.90));
    s.latency.p99 = std::chrono::nanoseconds(h.percentile(0.99));
    s.latency.max = std::chrono::nanoseconds(h.max());
    s.max_queue_depth = static_cast<std::size_t>(this->input.max_depth());
    s.lowest_concurrency_limit = this->limit ? this->limit->lowest() : this->config().workers;
    return s;
  }

protected:
  void cancel_waits() noexcept override { retries.cancel_all(this->alive()); }

private:
  result_channel results_;
  std::atomic<bool> giving_up_{false};
};

} // namespace jobrunner::detail

#endif
