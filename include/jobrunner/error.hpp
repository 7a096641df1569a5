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
