// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_END_OF_JOB_HPP
#define JOBRUNNER_DETAIL_END_OF_JOB_HPP

// The controller's last step, once every coroutine of the job has finished:
// the summary, the error async_run completes with (from the status), and the
// job-complete callback, exactly once.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/policy/fail_fast.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/job_summary.hpp>

#include <atomic>
#include <exception>
#include <tuple>

namespace jobrunner::detail {

template <class State>
std::tuple<error_code, JobSummary> end_of_job(State& job)
{
  std::tuple<error_code, JobSummary> outcome;
  auto& [ec, summary] = outcome;
  summary = job.make_summary();
  job.phase.store(2, std::memory_order_release);
  if (summary.status == job_status::failed)
    ec = policy::completion_error(summary.first_failure);
  else if (summary.status == job_status::aborted)
    ec = make_error_code(errc::failure_budget_exceeded);
  else if (summary.status == job_status::unavailable) // circuit breaker (issue 14)
    ec = make_error_code(errc::service_unavailable);
  else if (summary.status == job_status::cancelled)
    ec = asio::error::operation_aborted;
  if (job.input_gate.late_add.load(std::memory_order_acquire)) // add_range while running
    ec = make_error_code(errc::input_added_after_start);
  if (job.on_job)
  {
    try
    {
      job.on_job(summary);
    }
    catch (...)
    {
      // The callback's failure wins over cancelled and aborted: the status
      // still says how the job ended, and the exception is kept.
      summary.job_callback_error = std::current_exception();
      ec = make_error_code(errc::job_complete_callback_failed);
    }
  }
  return outcome;
}

} // namespace jobrunner::detail

#endif
