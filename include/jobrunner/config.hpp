// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_CONFIG_HPP
#define JOBRUNNER_CONFIG_HPP

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace jobrunner {

/// The sizes of a job: how many workers, how many messages each channel buffers.
/**
 * *Live items* (the one place this bound is stated; `live_item_bound()`
 * computes it). Whatever the number of items the producers generate, a
 * running job holds at most
 *
 *     producers + work_queue_capacity + workers + result_queue_capacity + 1
 *
 * items: one per producer (the item it is submitting, which waits inside the
 * blocked send while the work queue is full), the work queue's buffer, one
 * per worker (its task's item, or its result waiting to be sent while the
 * result queue is full), the result queue's buffer, and the one whose
 * task-complete callback is running. Add `retry.max_waiting` (0: `workers`)
 * with retries waiting off the workers, and `reorder_window` (0: `workers`)
 * with `ordered_delivery`, `per_key.max_waiting` (0: `workers`) with
 * `per_key` (a worker's own item set aside beyond it is the one counted per
 * worker), and one per `Input::async_add` pending at once
 * (`pending_adds`; `JobRunner::open_input`). Pulled results
 * (`JobRunner::results`) keep the bound: the result waiting for a pull takes
 * the place of the one whose callback runs. A job whose task-complete callback is the
 * bottleneck reaches the bound exactly (tests/memory_test.cpp). Items a
 * producer keeps in its own code are its own. "Items" are the objects that
 * hold an item's contents; moved-from `Item` objects (shells, `sizeof(Item)`
 * bytes each, nothing more for strings, containers or `unique_ptr`) also sit
 * in coroutine frames and pending channel operations, a few per producer and
 * worker (in that test, g++ 12 Release: 62 items and 223 objects with one
 * producer, 50 workers and capacities 10 and 0).
 *
 * - `workers`: the number of worker coroutines, so the number of tasks in
 *   flight at once. Default 50.
 * - `work_queue_capacity`: items a producer may run ahead of the workers.
 *   A producer's `submit` suspends while the queue is full. Default 100 (2 x
 *   the default workers): deep enough that producers and workers rarely wait
 *   for each other on the fast path, small enough to be negligible in memory.
 *   0 makes the queue a rendezvous (each submit waits for a worker).
 * - `result_queue_capacity`: results that may wait for the task-complete
 *   callback. A slow callback blocks workers only once this queue is full.
 *   Default 100. With `single_threaded` and neither ordered delivery, pulled
 *   results nor an input that ends when idle, no result waits: the worker
 *   that finished a task calls the callback itself (on one thread a
 *   callback holds everything up in either case), and this is unused.
 *
 * Policies for calling real APIs (all off by default):
 * - `task_timeout`: an asynchronous task still running after this long
 *   receives terminal cancellation (its Asio operations end with
 *   `operation_aborted`) and is reported as `task_status::timed_out`. A
 *   synchronous function is never interrupted. Zero: no timeout.
 * - `failure_budget`: the job is aborted (`job_status::aborted`; the items not
 *   yet run are reported as cancelled) after `max_failures` failures, or once
 *   at least `min_results` results are in and the failure ratio exceeds
 *   `max_failure_ratio` (checked at every result from then on). Failures
 *   are `failed` and `timed_out` results; `max_failures = 1` aborts at the
 *   first failure. Zero fields are off.
 * - `rate_limit`: at most `per_second` task starts a second, shared by all
 *   workers, with bursts of up to `burst` (in any window of d seconds at most
 *   `per_second * d + burst` starts). A worker waits for its start holding
 *   its slot. 0: no limit.
 * - `max_pushbacks`: a task that throws `jobrunner::retry_after` (server
 *   push-back) pauses dispatch for every worker for the delay it gives, and
 *   its item runs again after the pause, at most this many times (counted
 *   per item: `TaskResult::pushbacks`; then it fails with that exception).
 *   0: push-back pauses, but the item fails. Push-backs do not use up
 *   `retry.max_attempts`.
 *
 * - `retry`: an attempt that the retry predicate (`JobRunner::retry_if`;
 *   by default: the task failed or timed out) calls retryable runs again,
 *   up to `max_attempts` runs of the function on the item in all. Before
 *   attempt n+1 the item waits a random delay in
 *   [0, min(max_backoff, initial_backoff * multiplier^(n-1))] (exponential
 *   backoff with full jitter). The waiting item does **not** hold a worker:
 *   up to `max_waiting` items (0: as many as `workers`) wait aside on a
 *   timer while the worker takes the next item, then go back into the work
 *   queue. Beyond that, and with `ordered_delivery`, the worker waits
 *   itself. 1: no retry.
 * - `ordered_delivery`: task-complete callbacks in the order workers take
 *   items, which is submission order (exactly so for `single_threaded`; see
 *   the README for `multi_threaded`). Results that finish early wait in a
 *   reorder buffer of `reorder_window` results (0: as many as `workers`);
 *   a worker does not start an item more than `reorder_window` places ahead
 *   of the oldest undelivered one (head-of-line blocking: one slow item
 *   stalls the job once the window is full).
 * - `adaptive_concurrency`: the number of workers allowed to take items
 *   moves between `min_workers` and `workers`: it starts at
 *   `initial_workers` (0: `workers`), grows (AIMD: by one per window of
 *   successes; gradient: while the latency stays flat; both more slowly
 *   just below the limit the last decrease came from) only from tasks
 *   started with at least three quarters of the limit in flight, and is
 *   multiplied by `decrease_factor` on a timeout or a push-back of a task
 *   started since the last decrease; the gradient also cuts it when the
 *   latency rises.
 * - `fail_fast`: the first item whose final result (after its retries) is
 *   `failed` or `timed_out` cancels the job, as `cancel()` does (the items
 *   not yet run are reported cancelled, tasks in flight are interrupted), and
 *   the job ends with `job_status::failed`: `async_run` completes with the
 *   item's error code (the code of a `boost::system::system_error`,
 *   `asio::error::timed_out` for a timeout, else `errc::task_failed`) and
 *   `JobSummary::first_failure` holds its exception; `run()` rethrows that
 *   exception. Decided by the worker as soon as the result is final, so
 *   synchronous functions stop at once too.
 *
 * Rejected at construction with `std::invalid_argument`: `workers == 0`,
 * `workers > max_workers`, a negative `task_timeout`, a `max_failure_ratio`
 * outside [0, 1], a negative or NaN rate, a zero burst with a rate,
 * `retry.max_attempts == 0`, negative backoffs or a multiplier below 1, an
 * adaptive `min_workers` of 0 or above `workers`, a `decrease_factor`
 * outside (0, 1), a `smoothing` outside (0, 1], a `tolerance` outside
 * [1, 10], a `queue_allowance` outside [0, workers], a `short_window` of 0
 * or a `long_window` not above it, a negative deadline (or one above 100
 * years), an enabled `per_key` with neither a cap nor a rate, a rate outside
 * [0, 1e9] or a zero burst with a rate, a `max_keys` below 2 x `workers` +
 * the set-aside bound, or `ordered_delivery`.
 */
struct JobConfig
{
  /// The most workers a job may have (2^20).
  static constexpr std::size_t max_workers = std::size_t{1} << 20;

  /// Worker coroutines, so tasks in flight at once; 1 .. `max_workers`. Default 50.
  std::size_t workers = 50;
  /// Items producers may run ahead of the workers; 0: a rendezvous. Default 100.
  std::size_t work_queue_capacity = 100;
  /// Results that may wait for the task-complete callback; 0: a rendezvous. Default 100.
  std::size_t result_queue_capacity = 100;

  /// An asynchronous task still running after this long is cancelled and reported
  /// `task_status::timed_out`; 0: no timeout.
  std::chrono::nanoseconds task_timeout{0};

  /// Aborts the job past a number or a ratio of failures (`failed` and `timed_out` results).
  struct FailureBudget
  {
    std::uint64_t max_failures = 0; ///< abort at this many failures; 0: no limit
    double max_failure_ratio = 0;   ///< abort above this ratio of failures; 0: no limit
    std::uint64_t min_results = 0;  ///< ... once at least this many results are in
  } failure_budget;                 ///< the failure budget; off by default

  /// A limit on task starts, shared by all workers (a GCRA gate).
  struct RateLimit
  {
    double per_second = 0; ///< at most this many task starts a second; 0: no limit
    std::size_t burst = 1; ///< starts allowed at once on top of the rate (at least 1)
  } rate_limit;            ///< the rate limit; off by default

  /// How many times one item is run again after a task threw `retry_after`.
  std::size_t max_pushbacks = 10;

  /// Retries of failed attempts, with exponential backoff and full jitter.
  struct Retry
  {
    std::size_t max_attempts = 1; ///< runs of the function per item at most; 1: no retry
    /// The most the first retry waits (a random delay in [0, this]).
    std::chrono::nanoseconds initial_backoff = std::chrono::milliseconds(100);
    /// The cap on any retry's wait.
    std::chrono::nanoseconds max_backoff = std::chrono::seconds(10);
    /// Each retry's cap is the previous one times this (at least 1).
    double multiplier = 2.0;
    std::size_t max_waiting = 0; ///< items waiting for a retry off the workers; 0: `workers`
  } retry;                       ///< retries; off by default (`max_attempts` 1)

  /// Whether workers time each task (`TaskResult::duration`, `JobSummary::latency`).
  /**
   * On by default. Off, no clock is read per item: `duration` is 0 and the
   * summary's `latency` is empty. This saves two reads of the clock per item
   * (about 9 ns on the 2-core VM of benchmarks/README.md, an eighth of the
   * cost of a job whose task does nothing): worth it only for tasks of well
   * under a microsecond. The gradient `adaptive_concurrency` limit needs
   * the durations, so with it on they are measured anyway. Example:
   * `JobConfig c; c.measure_durations = false;`
   */
  bool measure_durations = true;

  bool ordered_delivery = false;  ///< task-complete callbacks in submission order
  std::size_t reorder_window = 0; ///< with ordered_delivery; 0: `workers`

  /// An adaptive limit on the workers allowed to take items, between `min_workers` and
  /// `workers` (AIMD or latency gradient; see docs/policies.md).
  struct AdaptiveConcurrency
  {
    /// How the limit grows and shrinks.
    enum class algorithm_kind
    {
      aimd,    ///< +1 per window of successes, times `decrease_factor` on an overload
      gradient ///< follows the ratio of long-term to recent latency; cut on an overload too
    };

    /// Whether the limit is on.
    bool enabled = false;
    /// The algorithm; AIMD by default.
    algorithm_kind algorithm = algorithm_kind::aimd;
    std::size_t min_workers = 1;     ///< the limit never goes below this
    std::size_t initial_workers = 0; ///< the limit at the start; 0: `workers`
    double decrease_factor = 0.5;    ///< the limit's multiplier on a timeout or push-back

    // --- gradient parameters (issue 14 item 5) --------------------------------
    /// Gradient: the share of the way to its target the limit moves per sample, (0, 1].
    double smoothing = 0.2;
    /// Gradient: latency inflation taken for noise, not queueing; within [1, 10].
    double tolerance = 1.1;
    /// Gradient: the growth per sample at a flat latency (before smoothing), the
    /// queueing it accepts; within [0, `workers`].
    double queue_allowance = 1;
    /// Gradient: samples in the recent latency average; at least 1.
    std::size_t short_window = 10;
    /// Gradient: samples in the long-term latency average; above `short_window`.
    std::size_t long_window = 500;
  } adaptive_concurrency; ///< adaptive concurrency; off by default

  // --- fail-fast (issue 13 item 4) -------------------------------------------
  /// The first item whose final result (after its retries) is failed or
  /// timed out cancels the job: `job_status::failed`; `async_run` completes
  /// with that item's error (see `JobRunner::async_run`).
  bool fail_fast = false;

  // --- circuit breaker (issue 14) ------------------------------------------
  /// Stops calling a failing service for a while instead of failing every item.
  /**
   * Off unless `enabled`. Closed: every attempt starts; the breaker opens
   * when, over the last `window` attempts (once at least `min_calls` are
   * in), the share of failures reaches `failure_rate` (0: no rate rule), or
   * after `consecutive_failures` failures in a row (0: no such rule).
   * Failures are attempts that failed or timed out; push-backs and
   * cancellations count for nothing. Open: no attempt starts for
   * `open_time`; workers wait holding their item (no item fails or uses
   * up a retry because the breaker is open). Then half-open: `probes`
   * attempts start; if all succeed it closes, if one fails it opens again
   * for the previous open time times `open_time_multiplier` (at most
   * `max_open_time`); no verdict within `half_open_time` counts as a failed
   * probe. After `give_up_after` (0: never) without closing since it last
   * opened, the job ends with `job_status::unavailable` and
   * `errc::service_unavailable`; the items not run are reported
   * `task_status::unavailable`.
   */
  struct CircuitBreaker
  {
    bool enabled = false;                 ///< off by default
    std::size_t window = 20;              ///< the sliding window, in attempts
    std::size_t min_calls = 10;           ///< the rate rule waits for this many attempts
    double failure_rate = 0.5;            ///< open at this share of failures; 0: off
    std::size_t consecutive_failures = 0; ///< open at this many failures in a row; 0: off
    std::chrono::nanoseconds open_time = std::chrono::seconds(1);      ///< the first open time
    double open_time_multiplier = 2.0;                                 ///< after each failed probe
    std::chrono::nanoseconds max_open_time = std::chrono::seconds(30); ///< the open time's cap
    std::size_t probes = 1; ///< attempts let through half-open
    std::chrono::nanoseconds half_open_time = std::chrono::seconds(30); ///< probes' time cap
    std::chrono::nanoseconds give_up_after{0}; ///< end the job after this long open; 0: never
  } circuit_breaker;                           ///< the circuit breaker (off by default)
  // --- end circuit breaker ---------------------------------------------------

  // --- retry budget (issue 14) -----------------------------------------------
  /// Bounds retries as a whole, so that an outage does not become a retry storm.
  /**
   * Off unless `enabled` (and only with `retry.max_attempts > 1`). Over the
   * last `window`, retries may add at most `ratio` of the first attempts
   * started in it, plus `min_per_second` a second. A retry the budget
   * refuses is not made: the item's last attempt is its result (counted in
   * `JobSummary::retries_refused`). Push-backs are not retries.
   */
  struct RetryBudget
  {
    bool enabled = false;       ///< off by default
    double ratio = 0.2;         ///< retries per first attempt, at most
    double min_per_second = 10; ///< plus this many retries a second
    std::chrono::nanoseconds window = std::chrono::seconds(10); ///< the sliding window
  } retry_budget; ///< the retry budget (off by default)
  // --- end retry budget --------------------------------------------------------

  // --- deadlines (issue 14) ----------------------------------------------------
  /// Time limits per item: a total deadline across its attempts, and a queue wait.
  /**
   * Off by default (zero). `total`: counted from the moment a worker first
   * takes the item, its attempts, push-back pauses and retry backoffs must
   * end within it: no attempt starts past it, a retry whose backoff would end
   * past it is not made, nor a push-back re-run whose pause would end past
   * it, and each attempt's timeout (`task_timeout`, or none) is cut to the
   * time left. Such an item is reported `task_status::expired`, with its last
   * attempt's error, if it ran. `queue_wait`: an item that waited longer than
   * this between its submission and a worker taking it is reported
   * `task_status::expired_in_queue` without running. Both: an item's whole
   * life is at most `queue_wait + total` (plus the last attempt of a
   * synchronous function, which cannot be interrupted).
   */
  struct Deadlines
  {
    std::chrono::nanoseconds total{0};      ///< per item, from its first take; 0: none
    std::chrono::nanoseconds queue_wait{0}; ///< from submission to a worker's take; 0: none
    /// The longest deadline accepted (100 years: the clock's sums cannot overflow).
    static constexpr std::chrono::nanoseconds max = std::chrono::hours(24 * 365 * 100);
  } deadline; ///< the deadlines (off by default)
  // --- end deadlines -----------------------------------------------------------

  // --- per-key limits (issue 14) ----------------------------------------------
  /// Limits per key (e.g. per host): a concurrency cap and a rate for each key.
  /**
   * Off unless `enabled`; the key is `JobRunner::key_by`'s (without one,
   * every item has the same key). A key may have `max_in_flight` tasks
   * running at once (0: no cap) and start `per_second` a second with bursts
   * of `burst` (0: no rate). An item whose key is saturated does not hold a
   * worker: it waits aside (FIFO per key) while the worker takes the next
   * item, and goes back into the work queue when its key allows it. At most
   * `max_waiting` (0: `workers`) items wait aside, plus one per worker: a
   * worker whose item goes aside beyond `max_waiting` takes no item until
   * the area is back within it (or it takes a released one). At most
   * `max_keys` keys are tracked (0: 65536; at least 2 x `workers` plus the
   * set-aside bound); a key is released when nothing of it runs or
   * waits and its rate is back to neutral. Not with `ordered_delivery`.
   */
  struct PerKey
  {
    bool enabled = false;          ///< off by default
    std::size_t max_in_flight = 1; ///< tasks of one key running at once; 0: no cap
    double per_second = 0;         ///< starts of one key a second; 0: no rate
    std::size_t burst = 1;         ///< with a rate: starts of one key at once, at most
    std::size_t max_waiting = 0;   ///< items set aside at once; 0: `workers` (plus one per worker)
    std::size_t max_keys = 0;      ///< keys tracked at once; 0: see above
  } per_key;                       ///< per-key limits (off by default)
  // --- end per-key limits ------------------------------------------------------

  /// Whether workers read the clock around each task (`measure_durations`, or a limit
  /// that needs the durations).
  bool timed_tasks() const noexcept
  {
    return measure_durations
           || (adaptive_concurrency.enabled
               && adaptive_concurrency.algorithm == AdaptiveConcurrency::algorithm_kind::gradient);
  }
  /// Whether retries wait aside (not holding a worker).
  bool retries_off_worker() const noexcept { return retry.max_attempts > 1 && !ordered_delivery; }
  /// How many retries may wait off the workers: `retry.max_waiting`, or `workers` if 0.
  std::size_t retry_slots() const noexcept
  {
    return retry.max_waiting != 0 ? retry.max_waiting : workers;
  }
  /// The reorder window of ordered delivery: `reorder_window`, or `workers` if 0.
  std::size_t window() const noexcept { return reorder_window != 0 ? reorder_window : workers; }
  /// Items set aside by `per_key` beyond the workers' own: `per_key.max_waiting` or `workers`.
  std::size_t key_slots() const noexcept
  {
    return per_key.max_waiting != 0 ? per_key.max_waiting : workers;
  }
  /// The most keys `per_key` tracks at once (see `PerKey`).
  std::size_t key_limit() const noexcept
  {
    return per_key.max_keys != 0 ? per_key.max_keys
                                 : std::max<std::size_t>(65536, 3 * workers + 2 * key_slots());
  }
  /// Whether an item may come back into the work queue (retries or per-key limits).
  bool items_come_back() const noexcept { return retries_off_worker() || per_key.enabled; }

  /// The most items a job with `producers` producers holds at once; see the class comment.
  /**
   * `pending_adds`: the most `Input::async_add` operations pending at once,
   * each holding its item like a producer's blocked submit.
   */
  std::size_t live_item_bound(std::size_t producers, std::size_t pending_adds = 0) const noexcept
  {
    std::size_t bound =
        producers + pending_adds + work_queue_capacity + workers + result_queue_capacity + 1;
    if (retries_off_worker())
      bound += retry_slots();
    if (ordered_delivery)
      bound += window();
    if (per_key.enabled) // per-key limits (issue 14): the workers' own items are counted above
      bound += key_slots();
    return bound;
  }

  /// Throws `std::invalid_argument` describing the first invalid field.
  void validate() const
  {
    if (workers == 0)
      throw std::invalid_argument("jobrunner: JobConfig::workers must be at least 1");
    if (workers > max_workers)
      throw std::invalid_argument("jobrunner: JobConfig::workers is " + std::to_string(workers)
                                  + ", more than the limit of " + std::to_string(max_workers));
    if (task_timeout.count() < 0)
      throw std::invalid_argument("jobrunner: JobConfig::task_timeout must not be negative");
    if (!(rate_limit.per_second >= 0 && rate_limit.per_second <= 1e9))
      throw std::invalid_argument(
          "jobrunner: JobConfig::rate_limit.per_second must be within [0, 1e9]");
    if (rate_limit.per_second > 0 && rate_limit.burst == 0)
      throw std::invalid_argument("jobrunner: JobConfig::rate_limit.burst must be at least 1");
    if (!(failure_budget.max_failure_ratio >= 0 && failure_budget.max_failure_ratio <= 1))
      throw std::invalid_argument(
          "jobrunner: JobConfig::failure_budget.max_failure_ratio must be within [0, 1]");
    if (retry.max_attempts == 0)
      throw std::invalid_argument("jobrunner: JobConfig::retry.max_attempts must be at least 1");
    if (retry.initial_backoff.count() < 0 || retry.max_backoff.count() < 0)
      throw std::invalid_argument("jobrunner: JobConfig::retry backoffs must not be negative");
    if (!(retry.multiplier >= 1 && retry.multiplier <= 1e6))
      throw std::invalid_argument("jobrunner: JobConfig::retry.multiplier must be within [1, 1e6]");
    if (retry.max_waiting > max_workers)
      throw std::invalid_argument("jobrunner: JobConfig::retry.max_waiting is above the limit of "
                                  + std::to_string(max_workers));
    if (reorder_window > max_workers)
      throw std::invalid_argument("jobrunner: JobConfig::reorder_window is above the limit of "
                                  + std::to_string(max_workers));
    if (retry_budget.enabled) // retry budget (issue 14)
    {
      if (!(retry_budget.ratio >= 0 && retry_budget.ratio <= 1000))
        throw std::invalid_argument(
            "jobrunner: JobConfig::retry_budget.ratio must be within [0, 1000]");
      if (!(retry_budget.min_per_second >= 0 && retry_budget.min_per_second <= 1e9))
        throw std::invalid_argument(
            "jobrunner: JobConfig::retry_budget.min_per_second must be within [0, 1e9]");
      if (retry_budget.window.count() <= 0)
        throw std::invalid_argument("jobrunner: JobConfig::retry_budget.window must be positive");
    }
    if (deadline.total.count() < 0 || deadline.total > Deadlines::max) // deadlines (issue 14)
      throw std::invalid_argument(
          "jobrunner: JobConfig::deadline.total must be within [0, 100 years] (0: none)");
    if (deadline.queue_wait.count() < 0 || deadline.queue_wait > Deadlines::max)
      throw std::invalid_argument(
          "jobrunner: JobConfig::deadline.queue_wait must be within [0, 100 years] (0: none)");
    if (per_key.enabled) // per-key limits (issue 14)
    {
      const auto& k = per_key;
      const auto bad = [](const char* what) {
        return std::invalid_argument(std::string("jobrunner: JobConfig::per_key.") + what);
      };
      if (k.max_in_flight == 0 && k.per_second == 0)
        throw bad("needs max_in_flight or per_second");
      if (!(k.per_second >= 0 && k.per_second <= 1e9))
        throw bad("per_second must be within [0, 1e9]");
      if (k.per_second > 0 && k.burst == 0)
        throw bad("burst must be at least 1");
      if (k.max_waiting > max_workers)
        throw bad("max_waiting is above the limit of 2^20");
      if (k.max_keys != 0 && k.max_keys < 2 * workers + key_slots())
        throw bad("max_keys must be 0 or at least 2 x workers + max_waiting (0: workers)");
      if (ordered_delivery)
        throw bad("enabled cannot be combined with ordered_delivery");
    }
    if (circuit_breaker.enabled) // circuit breaker (issue 14)
    {
      const auto& b = circuit_breaker;
      const auto bad = [](const char* what) {
        return std::invalid_argument(std::string("jobrunner: JobConfig::circuit_breaker.") + what);
      };
      if (b.window == 0 || b.window > max_workers * 64)
        throw bad("window must be within [1, 2^26]");
      if (!(b.failure_rate >= 0 && b.failure_rate <= 1))
        throw bad("failure_rate must be within [0, 1]");
      if (b.failure_rate == 0 && b.consecutive_failures == 0)
        throw bad("needs failure_rate or consecutive_failures");
      if (b.open_time.count() <= 0 || b.max_open_time < b.open_time)
        throw bad("open_time must be positive and at most max_open_time");
      if (!(b.open_time_multiplier >= 1 && b.open_time_multiplier <= 1e6))
        throw bad("open_time_multiplier must be within [1, 1e6]");
      if (b.probes == 0 || b.half_open_time.count() <= 0)
        throw bad("probes and half_open_time must be positive");
      if (b.give_up_after.count() < 0)
        throw bad("give_up_after must not be negative");
    }
    if (adaptive_concurrency.enabled)
    {
      const auto& a = adaptive_concurrency;
      if (a.min_workers == 0 || a.min_workers > workers)
        throw std::invalid_argument(
            "jobrunner: JobConfig::adaptive_concurrency.min_workers must be within [1, workers]");
      if (a.initial_workers > workers
          || (a.initial_workers != 0 && a.initial_workers < a.min_workers))
        throw std::invalid_argument("jobrunner: JobConfig::adaptive_concurrency.initial_workers "
                                    "must be 0 or within [min_workers, workers]");
      if (!(a.decrease_factor > 0 && a.decrease_factor < 1))
        throw std::invalid_argument(
            "jobrunner: JobConfig::adaptive_concurrency.decrease_factor must be within (0, 1)");
      if (a.algorithm != AdaptiveConcurrency::algorithm_kind::aimd
          && a.algorithm != AdaptiveConcurrency::algorithm_kind::gradient)
        throw std::invalid_argument(
            "jobrunner: JobConfig::adaptive_concurrency.algorithm must be aimd or gradient");
      if (!(a.smoothing > 0 && a.smoothing <= 1))
        throw std::invalid_argument(
            "jobrunner: JobConfig::adaptive_concurrency.smoothing must be within (0, 1]");
      if (!(a.tolerance >= 1 && a.tolerance <= 10))
        throw std::invalid_argument(
            "jobrunner: JobConfig::adaptive_concurrency.tolerance must be within [1, 10]");
      if (!(a.queue_allowance >= 0 && a.queue_allowance <= static_cast<double>(workers)))
        throw std::invalid_argument("jobrunner: JobConfig::adaptive_concurrency.queue_allowance "
                                    "must be within [0, workers]");
      if (a.short_window == 0 || a.long_window <= a.short_window)
        throw std::invalid_argument("jobrunner: JobConfig::adaptive_concurrency.short_window must "
                                    "be at least 1 and long_window above it");
    }
  }
};

} // namespace jobrunner

#endif
