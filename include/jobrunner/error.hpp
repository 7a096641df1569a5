// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_ERROR_HPP
#define JOBRUNNER_ERROR_HPP

#include <jobrunner/detail/asio.hpp>

#include <string>
#include <type_traits>

namespace jobrunner {

/// Error codes that `JobRunner::async_run` completes with (category "jobrunner").
/**
 * A cancelled job completes with `asio::error::operation_aborted` instead,
 * as Asio operations do.
 */
enum class errc
{
  /// `async_run` was called on a runner that has already started a job.
  already_started = 1,
  /// The job ran to its end, but the job-complete callback threw.
  job_complete_callback_failed = 2,
  /// One of the runner's own coroutines failed (for example, out of memory).
  internal_error = 3,
  /// The job was aborted: `JobConfig::failure_budget` was exceeded.
  failure_budget_exceeded = 4,

  // --- open input (JobRunner::open_input, issue 13) ---
  /// An add to an open input after it was closed, or after the job's input ended.
  input_closed = 10,
  /// `add_range` or `add_producer` was called while the job ran (for example
  /// from a callback): those items were not added. Use `open_input()`.
  input_added_after_start = 11,
  // --- fail-fast (issue 13 item 4) ---
  /// The job was stopped by `JobConfig::fail_fast`: a task threw an exception
  /// that is not a `system_error` (see `JobSummary::first_failure`).
  task_failed = 5,
  /// The circuit breaker gave up: the service is unavailable
  /// (`JobConfig::circuit_breaker.give_up_after`).
  service_unavailable = 12,
};

namespace detail {
// boost::system::error_category's destructor is protected and non-virtual by
// design; -Wnon-virtual-dtor cannot see that no one deletes through it.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#endif
class error_category final : public boost::system::error_category
{
public:
  const char* name() const noexcept override { return "jobrunner"; }

  std::string message(int ev) const override
  {
    switch (static_cast<errc>(ev))
    {
    case errc::already_started:
      return "this JobRunner has already started a job";
    case errc::job_complete_callback_failed:
      return "the job-complete callback threw an exception";
    case errc::internal_error:
      return "jobrunner internal error";
    case errc::failure_budget_exceeded:
      return "the job was aborted: its failure budget was exceeded";
    case errc::input_closed:
      return "the job's input is closed: no item can be added";
    case errc::input_added_after_start:
      return "add_range or add_producer was called while the job ran: those items were not "
             "added (use JobRunner::open_input to add items to a running job)";
    case errc::task_failed:
      return "the job was stopped: a task failed (fail_fast)";
    case errc::service_unavailable:
      return "the service is unavailable: the circuit breaker stayed open";
    }
    return "unknown jobrunner error";
  }
};
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
} // namespace detail

/// The category of `jobrunner::errc`.
inline const boost::system::error_category& error_category() noexcept
{
  static const detail::error_category category;
  return category;
}

/// An `error_code` of `error_category()` for `e` (found by argument-dependent lookup).
inline error_code make_error_code(errc e) noexcept
{
  return {static_cast<int>(e), error_category()};
}

} // namespace jobrunner

// Makes `errc` an error code enum; outside the API reference:
/// \cond
template <>
struct boost::system::is_error_code_enum<jobrunner::errc> : std::true_type
{};
/// \endcond

#endif
