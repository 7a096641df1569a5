// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_JOB_STATE_HPP
#define JOBRUNNER_DETAIL_JOB_STATE_HPP

// What the job's coroutines share: the input side (job_core.hpp), the user's
// function and callbacks, the result queue, the counters out, one object
// per policy (engaged only when set). Each concern has its own header.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/breaker_control.hpp>
#include <jobrunner/detail/delivery.hpp>
#include <jobrunner/detail/done_event.hpp>
#include <jobrunner/detail/drain_control.hpp>
#include <jobrunner/detail/event_hook.hpp>
#include <jobrunner/detail/job_core.hpp>
#include <jobrunner/detail/job_counters.hpp>
#include <jobrunner/detail/job_summary_of.hpp>
#include <jobrunner/detail/key_area.hpp>
#include <jobrunner/detail/policy/circuit_breaker.hpp>
#include <jobrunner/detail/policy/dispatch_gate.hpp>
#include <jobrunner/detail/policy/fail_fast.hpp>
#include <jobrunner/detail/policy/reorder.hpp>
#include <jobrunner/detail/policy/retry.hpp>
#include <jobrunner/detail/policy/retry_budget.hpp>
#include <jobrunner/detail/result_puller.hpp>
#include <jobrunner/detail/result_queue.hpp>
#include <jobrunner/detail/worker_keys.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/event.hpp>
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
#include <string>
#include <utility>
#include <vector>

namespace jobrunner::detail {

// The code only a configured job can run (policy_support.hpp).
template <class State>
struct policy_support
{
  asio::awaitable<void> (*worker)(std::shared_ptr<State>, std::size_t); // the policy worker
  asio::awaitable<void> (*ordered_result_handler)(std::shared_ptr<State>);
  void (*create_retry_queue)(State&);
  void (*cancel_waiting)(State&) noexcept; // the retry queue's and the key area's waits
};

// The whole job: the input side plus the function, results, callbacks, policies.
template <class Item, class Result, class Threading>
class job_state : public job_core<Item, Threading>, public event_hook
{
public:
  using core_type = job_core<Item, Threading>;
  using result_type = Result;
  using threading = Threading;
  using task_result = TaskResult<Item, Result>;
  using result_message = std::optional<task_result>;
  using result_channel = result_queue<task_result, Threading::concurrent>;
  using async_function = std::function<asio::awaitable<Result>(Item&)>;
  using sync_function = std::function<Result(Item&)>;
  using task_callback = std::function<void(task_result&)>;
  using retry_predicate = std::function<bool(const task_result&)>;
  using job_callback = std::function<void(const JobSummary&)>;

  job_state(asio::any_io_executor ex, const JobConfig& config)
      : job_core<Item, Threading>(std::move(ex), config), gate(config),
        drain_ctl_(Threading::coroutine_executor(this->executor())),
        results_(this->executor(), config.result_queue_capacity)
  {
    if (config.ordered_delivery)
      window.emplace(config.window());
    if (config.circuit_breaker.enabled)
      breaker.emplace(config.circuit_breaker);
    if (config.retry_budget.enabled && config.retry.max_attempts > 1)
      budget.emplace(config.retry_budget);
  }

  // Whether a job needs the worker with policies (worker.hpp); push-back is
  // always on, and the lean worker handles it too.
  bool uses_policies() const noexcept
  {
    const auto& c = this->config();
    return c.task_timeout.count() > 0 || c.rate_limit.per_second > 0 || c.retry.max_attempts > 1
           || c.ordered_delivery || c.adaptive_concurrency.enabled || c.fail_fast
           || c.circuit_breaker.enabled // circuit breaker (issue 14)
           || c.deadline.total.count() > 0 || c.deadline.queue_wait.count() > 0 // deadlines
           || c.per_key.enabled; // per-key limits (issue 14)
  }

  result_channel& results() noexcept { return results_; }
  delivery_plan delivery; // set by the controller before the start (delivery.hpp)

  // --- policies -------------------------------------------------------------
  const policy_support<job_state>* support = nullptr; // set with a JobConfig
  policy::dispatch_gate gate;                         // push-back pause, rate limit
  std::optional<policy::reorder_window> window;       // ordered delivery
  policy::retry_queue<result_message> retries;        // retries off the workers
  counter<Threading::concurrent> retried;
  result_puller<task_result, Threading> puller; // JobRunner::results (issue 13)

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

  // --- per-key limits (issue 14): key_area.hpp, worker_keys.hpp ---
  std::optional<key_area<result_message>> keys;
  std::function<std::string(const Item&)> key_fn; // JobRunner::key_by; none: one key
  std::string key_of(const Item& item) const noexcept { return policy::key_by_fn(key_fn, item); }

  // --- circuit breaker (issue 14): breaker_control.hpp ---
  std::optional<breaker_control<task_result>> breaker;
  std::function<bool(const task_result&)> breaker_failure; // set before the start

  // Whether an attempt may start; unavailable: the job gives up (cancelled,
  // so the worker's next pass ends the item).
  policy::admission breaker_admit(clock::time_point now)
  {
    const auto a = breaker->admit(now, reporter());
    if (a.kind == policy::admission::unavailable)
      give_up();
    return a;
  }

  // The outcome of an attempt admitted with `ticket`; wakes the waiting
  // workers when the breaker closed or gave a probe back.
  void breaker_outcome(std::uint64_t ticket, const task_result& r, bool pushed_back)
  {
    using policy::call_outcome;
    // An attempt the total deadline cut short (expired) says nothing of the service.
    const auto o =
        pushed_back || r.status == task_status::cancelled || r.status == task_status::expired
            ? call_outcome::neutral
        : is_breaker_failure(r) ? call_outcome::failure
                                : call_outcome::success;
    if (breaker->outcome(ticket, o, clock::now(), reporter()))
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
    if (this->cancel_requested() || !breaker->start_giving_up())
      return;
    this->gave_up.store(true, std::memory_order_release);
    this->request_cancel();
  }

  void mark_unavailable(task_result& r) const noexcept
  {
    breaker->mark_unavailable(r, this->gave_up.load(std::memory_order_acquire));
  }

  std::uint64_t breaker_opened() const { return breaker ? breaker->times_opened() : 0; }

  // The retry predicate; by default, default_retry_if (failed or timed
  // out). A predicate that throws says no.
  bool is_retryable(const task_result& r) const noexcept
  {
    if (!retryable)
      return default_retry_if(r);
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
  // Set if an internal coroutine lets an exception out; the controller rethrows it.
  std::atomic<bool> internal_error_set{false};
  std::exception_ptr internal_error;

  void abort(std::uint64_t failures) noexcept
  {
    if (!aborted.exchange(true, std::memory_order_acq_rel))
      notify(event_kind::aborted, 0, static_cast<std::int64_t>(failures));
    this->request_cancel();
  }

  // --- fail-fast (issue 13 item 4) ---
  // The first final failure of a job not already cancelled wins: its
  // exception is kept (read by the controller once every coroutine ended).
  std::atomic<bool> failed_fast{false};
  std::exception_ptr first_failure;

  void fail_fast(const task_result& r) noexcept
  {
    if (this->cancel_requested() || failed_fast.exchange(true, std::memory_order_acq_rel))
      return;
    first_failure = policy::failure_of(r.status, r.error);
    notify(event_kind::fail_fast, r.sequence, 0);
    this->request_cancel();
  }

  // --- drain (issue 13 item 5): the grace timer and the draining event ---
  void open_control() noexcept { drain_ctl_.open(*this); }
  void close_control() noexcept { drained_at_end_ = drain_ctl_.close(*this); }
  // The summary's word: a drain asked for after the job's end did nothing.
  bool drained() const noexcept { return drained_at_end_; }
  result_counters outcomes; // written by the result handler only

  JobStats stats() const noexcept { return stats_of(*this); }   // job_summary_of.hpp
  JobSummary make_summary() const { return summary_of(*this); } // job_summary_of.hpp

protected:
  void cancel_waits() noexcept override
  {
    if (support) // only a configured job has retries or keys waiting
      support->cancel_waiting(*this);
  }
  void drain_changed() noexcept override { drain_ctl_.changed(*this); }

private:
  drain_control drain_ctl_;
  bool drained_at_end_ = false; // by the controller, before the summary
  result_channel results_;
};

} // namespace jobrunner::detail

#endif
