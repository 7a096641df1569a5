// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_CONFIG_HPP
#define JOBRUNNER_CONFIG_HPP

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
 * with `ordered_delivery`. A job whose task-complete callback is the
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
 *   Default 100.
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
 *   moves between `min_workers` and `workers` (AIMD): it starts at
 *   `initial_workers` (0: `workers`), grows by one per window of successes
 *   and is multiplied by `decrease_factor` on a timeout or a push-back of a
 *   task started since the last decrease.
 *
 * Rejected at construction with `std::invalid_argument`: `workers == 0`,
 * `workers > max_workers`, a negative `task_timeout`, a `max_failure_ratio`
 * outside [0, 1], a negative or NaN rate, a zero burst with a rate,
 * `retry.max_attempts == 0`, negative backoffs or a multiplier below 1, an
 * adaptive `min_workers` of 0 or above `workers`, a `decrease_factor`
 * outside (0, 1).
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

  bool ordered_delivery = false;  ///< task-complete callbacks in submission order
  std::size_t reorder_window = 0; ///< with ordered_delivery; 0: `workers`

  /// An AIMD limit on the workers allowed to take items, between `min_workers` and `workers`.
  struct AdaptiveConcurrency
  {
    /// Whether the limit is on.
    bool enabled = false;
    std::size_t min_workers = 1;     ///< the limit never goes below this
    std::size_t initial_workers = 0; ///< the limit at the start; 0: `workers`
    double decrease_factor = 0.5;    ///< the limit's multiplier on a timeout or push-back
  } adaptive_concurrency;            ///< adaptive concurrency; off by default

  /// Whether retries wait aside (not holding a worker).
  bool retries_off_worker() const noexcept { return retry.max_attempts > 1 && !ordered_delivery; }
  /// How many retries may wait off the workers: `retry.max_waiting`, or `workers` if 0.
  std::size_t retry_slots() const noexcept
  {
    return retry.max_waiting != 0 ? retry.max_waiting : workers;
  }
  /// The reorder window of ordered delivery: `reorder_window`, or `workers` if 0.
  std::size_t window() const noexcept { return reorder_window != 0 ? reorder_window : workers; }

  /// The most items a job with `producers` producers holds at once; see the class comment.
  std::size_t live_item_bound(std::size_t producers) const noexcept
  {
    std::size_t bound = producers + work_queue_capacity + workers + result_queue_capacity + 1;
    if (retries_off_worker())
      bound += retry_slots();
    if (ordered_delivery)
      bound += window();
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
    }
  }
};

} // namespace jobrunner

#endif
