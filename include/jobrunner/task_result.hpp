// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_TASK_RESULT_HPP
#define JOBRUNNER_TASK_RESULT_HPP

#include <chrono>
#include <cstdint>
#include <exception>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace jobrunner {

/// How one task ended.
enum class task_status
{
  succeeded, ///< the function returned a value
  failed,    ///< the function threw; `TaskResult::error` holds the exception
  cancelled, ///< the job was cancelled (or aborted) before or while the task ran
  timed_out, ///< the task ran longer than `JobConfig::task_timeout` and was cancelled
  // --- circuit breaker (issue 14) ---
  /// Not run (or cut short): the circuit breaker gave up on the service
  /// (`JobConfig::circuit_breaker.give_up_after`); `error` holds a
  /// `system_error` with `errc::service_unavailable`, or the cut-short
  /// attempt's error.
  unavailable,
  // --- deadlines (issue 14) ---
  /// The item's total deadline (`JobConfig::deadline.total`) ended it: an
  /// attempt would have started, or a retry or push-back re-run would have
  /// begun, at or past it, or the attempt it cut short ran out; `error`
  /// holds the last attempt's error (null if it never ran).
  expired,
  /// Not run: the item waited in the work queue longer than
  /// `JobConfig::deadline.queue_wait` before a worker took it.
  expired_in_queue,
};

/// The enumerator's name, e.g. "timed_out"; "unknown" for a value out of range.
constexpr std::string_view to_string(task_status s) noexcept
{
  switch (s)
  {
  case task_status::succeeded:
    return "succeeded";
  case task_status::failed:
    return "failed";
  case task_status::cancelled:
    return "cancelled";
  case task_status::timed_out:
    return "timed_out";
  case task_status::unavailable:
    return "unavailable";
  case task_status::expired:
    return "expired";
  case task_status::expired_in_queue:
    return "expired_in_queue";
  }
  return "unknown";
}

/// Writes `to_string(s)` (include `<ostream>` to use it).
template <class Traits>
std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& os, task_status s)
{
  return os << to_string(s).data(); // the names are literals: null-terminated
}

/// What the task-complete callback receives for each submitted item.
/**
 * Exactly one `TaskResult` is delivered for each item a producer submitted.
 * The callback receives it by non-const reference: moving the item or the
 * value out of it is allowed.
 *
 * - `item`: the work item, as the function saw it.
 * - `value`: engaged iff `status == task_status::succeeded` (for a `void`
 *   result it holds `std::monostate`).
 * - `error`: the exception the function threw; set when `status` is
 *   `failed`, and when a task in flight was cancelled or timed out (usually a
 *   `system_error` with `operation_aborted`). Null when the item was
 *   cancelled before it ran.
 * - `duration`: how long the function ran (its last attempt), measured by
 *   the worker (a few tens of nanoseconds of the worker's own bookkeeping
 *   included). Zero when the task never ran, and with
 *   `JobConfig::measure_durations` off.
 * - `attempts`: how many times the function ran on this item (more than one
 *   after retries, `JobConfig::retry`, or server push-back, `retry_after`);
 *   0 if it never ran. `error` is then the last attempt's error. An item
 *   whose retry was still waiting when the job was cancelled keeps the
 *   status and error of its last attempt.
 * - `pushbacks`: how many of those attempts ended in server push-back
 *   (`retry_after`). `JobConfig::max_pushbacks` bounds this count, and
 *   `JobConfig::retry.max_attempts` bounds the other attempts: a push-back
 *   does not use up a retry.
 * - `sequence`: the item's place (from 0) in the order workers took items.
 *   With `JobConfig::ordered_delivery` on `single_threaded` this is exactly
 *   the order of submission; without it, a worker resumed from a wait may
 *   get its number after a worker that took a later item meanwhile.
 */
template <class Item, class Result>
struct TaskResult
{
  /// The item type.
  using item_type = Item;
  /// The value type: `Result`, or `std::monostate` for `void`.
  using value_type = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;

  /// A result for `i`, not yet run (`status` cancelled, no value, no error).
  explicit TaskResult(Item i) : item(std::move(i)) {}

  /// The item, moved through the job; the callback may move it out.
  Item item;
  /// The function's value, engaged iff `status` is `task_status::succeeded`.
  std::optional<value_type> value;
  /// What the function threw, or the cancellation a task in flight received
  /// (the last attempt's, after retries); null on success.
  std::exception_ptr error;
  /// How the item ended (see `task_status`).
  task_status status = task_status::cancelled;
  /// How long the function ran (measured by the worker); 0 if it never ran.
  std::chrono::nanoseconds duration{0};
  /// Runs of the function on this item, retries and push-back included.
  unsigned attempts = 0;
  /// How many of those runs ended in `retry_after`.
  unsigned pushbacks = 0;
  /// The item's place in the order workers took items, from 0 (see the class comment).
  std::uint64_t sequence = 0;

  // --- deadlines (issue 14) ---
  /// When the item's total deadline ends (`JobConfig::deadline.total`, from
  /// the worker's first take); the clock's epoch when there is none.
  std::chrono::steady_clock::time_point deadline{};

  /// True iff the task succeeded.
  bool ok() const noexcept { return status == task_status::succeeded; }
};

// --- retry_if's default predicate (issue 13 item 7) ------------------------

/// The retry predicate a job uses when `JobRunner::retry_if` sets none.
/**
 * True iff the attempt failed (the function threw) or timed out
 * (`JobConfig::task_timeout`); false for a success, and for an attempt
 * cancelled with the job. A predicate given to `retry_if` *replaces* this
 * one: call it from yours to keep retrying failures and timeouts while adding
 * or removing cases.
 *
 * *Example*: also retry an HTTP 503 returned as a value, never a 4xx thrown:
 * ```
 * runner.retry_if([](const auto& r) {
 *   if (r.ok()) return r.value->status == 503;
 *   return jobrunner::default_retry_if(r) && !is_client_error(r.error);
 * });
 * ```
 */
template <class Item, class Result>
bool default_retry_if(const TaskResult<Item, Result>& r) noexcept
{
  return r.status == task_status::failed || r.status == task_status::timed_out;
}

} // namespace jobrunner

#endif
