// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_JOB_STATE_HPP
#define JOBRUNNER_DETAIL_JOB_STATE_HPP

// What the job's coroutines share: the channels, the user's function and
// callbacks, the members, the counters, the end of input, one object per
// policy (engaged only when set). Each concern has its own header.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/done_event.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_counters.hpp>
#include <jobrunner/detail/member_set.hpp>
#include <jobrunner/detail/open_input.hpp>
#include <jobrunner/detail/policy/circuit_breaker.hpp>
#include <jobrunner/detail/policy/concurrency_limit.hpp>
#include <jobrunner/detail/policy/dispatch_gate.hpp>
#include <jobrunner/detail/policy/drain.hpp>
#include <jobrunner/detail/policy/fail_fast.hpp>
#include <jobrunner/detail/policy/reorder.hpp>
#include <jobrunner/detail/policy/retry.hpp>
#include <jobrunner/detail/policy/retry_budget.hpp>
#include <jobrunner/detail/result_puller.hpp>
#include <jobrunner/detail/result_queue.hpp>
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
#include <utility>
#include <vector>

namespace jobrunner {
template <class Item, class Threading>
class Submitter;
} // namespace jobrunner

namespace jobrunner::detail {

using clock = std::chrono::steady_clock;

// Work messages are optional: Item need not be default-constructible. An
// empty message with an error is an end marker or a retry_due().
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
    input_gate.set_on(executor_, [this] { return alive(); });
  }
  virtual ~job_core() = default;

  bool cancel_requested() const noexcept
  {
    return cancel_requested_.load(std::memory_order_acquire);
  }

  // Idempotent, any thread. The emits interrupt the members' operations.
  void request_cancel() noexcept
  {
    input_closed_.store(true, std::memory_order_seq_cst);
    if (cancel_requested_.exchange(true, std::memory_order_seq_cst))
      return;
    if (members.published())
      members.emit_all(alive());
    cancel_waits();
    input_gate.close(); // an open input refuses further adds
  }

  void publish_members() noexcept
  {
    members.publish(cancel_requested_, alive());
    if (drain_.requested()) // read after publishing, as the cancel flag is
      members.stop_producers(first_worker, alive());
  }

  // --- drain (issue 13 item 5) ---
  // Submits are refused once the job is cancelled or draining.
  bool input_closed() const noexcept { return input_closed_.load(std::memory_order_acquire); }
  bool drain_requested() const noexcept { return drain_.requested(); }

  // Idempotent and safe from any thread: producers stop (each is cancelled
  // unless it is delivering an item), the workers go on; a grace period
  // (the earliest asked for) ends in a cancel (job_state's control).
  void request_drain(std::optional<std::chrono::nanoseconds> grace) noexcept
  {
    const auto change = drain_.request(grace, std::chrono::steady_clock::now());
    if (change.first)
    {
      input_closed_.store(true, std::memory_order_seq_cst);
      if (members.published())
        members.stop_producers(first_worker, alive());
      input_gate.close(); // an open input refuses further adds, as after close()
    }
    if (change.first || change.deadline)
      drain_changed();
  }

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
  open_input_state input_gate;      // JobRunner::open_input (issue 13)
  std::atomic<bool> gave_up{false}; // circuit breaker (issue 14): it ended the job

protected:
  // Ends the waits that are not members' operations (retries).
  virtual void cancel_waits() noexcept {}
  // A drain started or its grace deadline moved.
  virtual void drain_changed() noexcept {}
  policy::drain_request drain_;
  std::atomic<bool> input_closed_{false};
  std::shared_ptr<const void> alive() const noexcept { return this->shared_from_this(); }
  std::atomic<bool> cancel_requested_{false};

private:
  asio::any_io_executor executor_;
  JobConfig config_;
  work_channel work_;
  receive_order<Threading::concurrent> receives_;
};

// The whole job: the input side plus the function, results, callbacks, policies.
template <class Item, class Result, class Threading>
class job_state : public job_core<Item, Threading>
{
public:
  using result_type = Result;
  using task_result = TaskResult<Item, Result>;
  using result_message = std::optional<task_result>;
  using result_channel = result_queue<task_result, Threading::concurrent>;
  using async_function = std::function<asio::awaitable<Result>(Item&)>;
  using sync_function = std::function<Result(Item&)>;
  using task_callback = std::function<void(task_result&)>;
  using retry_predicate = std::function<bool(const task_result&)>;
  using job_callback = std::function<void(const JobSummary&)>;
  using event_callback = std::function<void(const event&)>;

  job_state(asio::any_io_executor ex, const JobConfig& config)
      : job_core<Item, Threading>(std::move(ex), config), gate(config),
        control_(Threading::coroutine_executor(this->executor())),
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
           || c.circuit_breaker.enabled; // circuit breaker (issue 14)
  }

  result_channel& results() noexcept { return results_; }

  // --- policies -------------------------------------------------------------
  policy::dispatch_gate gate;                   // push-back pause, rate limit
  std::optional<policy::reorder_window> window; // ordered delivery
  policy::retry_queue<result_message> retries;  // retries off the workers
  counter<Threading::concurrent> retried;
  result_puller<task_result, Threading> puller; // JobRunner::results (issue 13)

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
    policy::admission a;
    transition t;
    {
      std::lock_guard lock(breaker->mutex);
      const auto before = breaker->breaker.state();
      a = breaker->breaker.admit(now);
      t = transition_of(before);
    }
    report(t, now);
    return a;
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
    transition t;
    const auto now = clock::now();
    {
      std::lock_guard lock(breaker->mutex);
      const auto before = breaker->breaker.state();
      wake = breaker->breaker.on_outcome(ticket, o, now);
      t = transition_of(before);
    }
    report(t, now);
    if (wake)
      this->members.wake_breaker_waiters(this->first_worker, this->alive());
  }

  // A change of the breaker's state, read under its lock, reported after it
  // (on_event: breaker_opened, breaker_half_open, breaker_closed).
  struct transition
  {
    bool changed = false;
    policy::breaker_state to = policy::breaker_state::closed;
    std::uint64_t opened = 0;
  };
  transition transition_of(policy::breaker_state before) const noexcept
  {
    const auto& b = breaker->breaker;
    return {b.state() != before, b.state(), b.times_opened()};
  }
  void report(const transition& t, clock::time_point now) noexcept
  {
    if (!t.changed)
      return;
    using policy::breaker_state;
    if (t.to == breaker_state::open)
      notify(event_kind::breaker_opened, 0, static_cast<std::int64_t>(t.opened), now);
    else if (t.to == breaker_state::half_open)
      notify(event_kind::breaker_half_open, 0, 0, now);
    else
      notify(event_kind::breaker_closed, 0, 0, now);
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
  event_callback on_event; // issue 13 item 6

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

  // --- events (issue 13 item 6) ---
  // Called where the runner decides, never on the per-item fast path; costs
  // one test of an empty std::function when no hook is set. A hook that
  // throws is counted (JobSummary::event_errors).
  std::atomic<std::uint64_t> event_errors{0};

  void notify(event_kind kind, std::uint64_t sequence, std::int64_t value,
              clock::time_point time = clock::now()) noexcept
  {
    if (!on_event)
      return;
    try
    {
      event e;
      e.kind = kind;
      e.time = time;
      e.sequence = sequence;
      e.value = value;
      on_event(e);
    }
    catch (...)
    {
      event_errors.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // --- drain (issue 13 item 5): the grace timer and the draining event ---
  // Both live on `control_` (the job's executor, or a strand of it), from
  // the controller's start to its end; a drain asked for before the start
  // takes effect at the start.
  void open_control() noexcept
  {
    control_open_.store(true, std::memory_order_seq_cst);
    if (this->drain_requested())
      post_drain_step();
  }
  void close_control() noexcept
  {
    try
    {
      asio::post(control_, [this, alive = this->alive()] {
        control_closed_ = true;
        if (grace_timer_)
          grace_timer_->cancel();
      });
    }
    catch (...)
    {
      // Only allocation can fail: the timer then ends at its deadline.
    }
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
    s.status = failed_fast.load(std::memory_order_acquire)     ? job_status::failed
               : aborted.load(std::memory_order_acquire)       ? job_status::aborted
               : this->gave_up.load(std::memory_order_acquire) ? job_status::unavailable
               : this->cancel_requested()                      ? job_status::cancelled
               : this->drain_requested()                       ? job_status::drained
                                                               : job_status::completed;
    s.event_errors = event_errors.load(std::memory_order_relaxed);
    s.first_failure = first_failure;
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
  void drain_changed() noexcept override
  {
    if (control_open_.load(std::memory_order_seq_cst))
      post_drain_step();
  }

private:
  void post_drain_step() noexcept
  {
    try
    {
      asio::post(control_, [this, alive = this->alive()] { drain_step(); });
    }
    catch (...)
    {
      // Only allocation can fail: the drain still stops the input.
    }
  }

  // On control_: announce the drain once, (re)arm the grace timer.
  void drain_step()
  {
    if (control_closed_)
      return;
    const auto deadline = this->drain_.deadline();
    const auto now = clock::now();
    if (!draining_announced_)
    {
      draining_announced_ = true;
      notify(event_kind::draining, 0,
             deadline
                 ? std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - now).count()
                 : -1);
    }
    if (!deadline)
      return;
    if (!grace_timer_)
      grace_timer_.emplace(control_);
    grace_timer_->expires_at(*deadline);
    grace_timer_->async_wait([this, alive = this->alive()](error_code ec) {
      if (ec || control_closed_ || this->cancel_requested())
        return;
      notify(event_kind::drain_grace_expired, 0, 0);
      this->request_cancel();
    });
  }

  asio::any_io_executor control_;
  std::atomic<bool> control_open_{false};
  bool control_closed_ = false;     // on control_
  bool draining_announced_ = false; // on control_
  std::optional<asio::steady_timer> grace_timer_;

  result_channel results_;
  std::atomic<bool> giving_up_{false};
};

} // namespace jobrunner::detail

#endif
