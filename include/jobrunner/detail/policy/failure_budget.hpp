// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_FAILURE_BUDGET_HPP
#define JOBRUNNER_DETAIL_POLICY_FAILURE_BUDGET_HPP

// JobConfig::failure_budget, a pure decision: after each result the result
// handler asks whether the failures so far are over the budget; if so it
// aborts the job (once).

#include <jobrunner/config.hpp>

#include <cstdint>

namespace jobrunner::detail::policy {

// The results delivered so far, by status.
struct result_counts
{
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t unavailable = 0; // circuit breaker (issue 14)
  // deadlines (issue 14): not failures of the service, so not in failures()
  std::uint64_t expired = 0;
  std::uint64_t expired_in_queue = 0;

  std::uint64_t failures() const noexcept { return failed + timed_out; }
  std::uint64_t total() const noexcept
  {
    return succeeded + failed + cancelled + timed_out + unavailable + expired + expired_in_queue;
  }
};

// Whether the budget is set at all (no check per result otherwise).
inline bool budgeted(const JobConfig::FailureBudget& b) noexcept
{
  return b.max_failures != 0 || b.max_failure_ratio > 0;
}

// At `max_failures` failures (so 1 aborts at the first), or once at least
// `min_results` results are in, above `max_failure_ratio` of them. Asked at
// every result, whatever its status: the ratio can go over when
// `min_results` is reached, after the failures came in.
inline bool over_budget(const JobConfig::FailureBudget& b, const result_counts& c) noexcept
{
  const auto failures = c.failures();
  if (b.max_failures != 0 && failures >= b.max_failures)
    return true;
  if (b.max_failure_ratio > 0)
  {
    const auto results = c.total();
    return results >= b.min_results
           && static_cast<double>(failures) > b.max_failure_ratio * static_cast<double>(results);
  }
  return false;
}

} // namespace jobrunner::detail::policy

#endif
