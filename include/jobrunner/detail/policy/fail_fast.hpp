// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_FAIL_FAST_HPP
#define JOBRUNNER_DETAIL_POLICY_FAIL_FAST_HPP

// JobConfig::fail_fast, pure decisions: which final result stops the job
// (the worker asks after an item's last attempt, so retries come first), the
// exception the summary keeps for it, and the error code async_run
// completes with.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/task_result.hpp>

#include <exception>

namespace jobrunner::detail::policy {

// A final result that fails the job: failed or timed out (as the failure
// budget counts failures); never a cancelled one.
inline bool fails_job(task_status status) noexcept
{
  return status == task_status::failed || status == task_status::timed_out;
}

// What JobSummary::first_failure keeps: the task's exception; for a timeout
// (whose exception is the operation_aborted the deadline caused) a
// system_error with asio::error::timed_out.
inline std::exception_ptr failure_of(task_status status, std::exception_ptr error) noexcept
{
  if (status == task_status::timed_out)
  {
    try
    {
      throw boost::system::system_error(asio::error::timed_out, "jobrunner: task timed out");
    }
    catch (...)
    {
      return std::current_exception();
    }
  }
  return error;
}

// The completion's error code: the code of a system_error, else
// errc::task_failed.
inline error_code completion_error(const std::exception_ptr& failure) noexcept
{
  if (!failure)
    return make_error_code(errc::task_failed);
  try
  {
    std::rethrow_exception(failure);
  }
  catch (const boost::system::system_error& e)
  {
    if (e.code())
      return e.code();
  }
  catch (...)
  {}
  return make_error_code(errc::task_failed);
}

} // namespace jobrunner::detail::policy

#endif
