// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// What happens after an attempt (policy::decide), the backoff's range and
// the failure budget's thresholds: pure decisions, tested alone.
#include <jobrunner/detail/policy/attempt.hpp>
#include <jobrunner/detail/policy/failure_budget.hpp>
#include <jobrunner/detail/policy/retry.hpp>

#include "test_support.hpp"

#include <array>
#include <chrono>

using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::task_status;
using jobrunner::detail::policy::next_step;
namespace policy = jobrunner::detail::policy;

namespace {

using result = jobrunner::TaskResult<int, int>;

result attempted(task_status status, unsigned attempts, unsigned pushbacks = 0)
{
  result r(1);
  r.status = status;
  r.attempts = attempts;
  r.pushbacks = pushbacks;
  return r;
}

const auto always = [](const result&) { return true; };
const auto never = [](const result&) { return false; };
const auto half = [] { return 0.5; };

JobConfig retrying(std::size_t attempts)
{
  JobConfig c;
  c.retry.max_attempts = attempts;
  c.retry.initial_backoff = 100ms;
  c.retry.max_backoff = 1s;
  c.retry.multiplier = 2;
  return c;
}

} // namespace

TEST_CASE("decide: a success or a non-retryable failure is final", "[policy][attempt]")
{
  auto config = retrying(3);
  auto ok = attempted(task_status::succeeded, 1);
  CHECK(policy::decide(config, ok, false, false, never, half).step == next_step::deliver);
  auto failed = attempted(task_status::failed, 1);
  CHECK(policy::decide(config, failed, false, false, never, half).step == next_step::deliver);
  // No retry configured: the predicate is not even asked.
  JobConfig plain;
  bool asked = false;
  auto f = attempted(task_status::failed, 1);
  CHECK(policy::decide(
            plain, f, false, false, [&](const result&) { return asked = true; }, half)
            .step
        == next_step::deliver);
  CHECK_FALSE(asked);
}

TEST_CASE("decide: retries up to max_attempts, aside unless ordered, with the backoff",
          "[policy][attempt][retry]")
{
  auto config = retrying(3);
  auto r = attempted(task_status::failed, 1);
  auto d = policy::decide(config, r, false, false, always, half);
  CHECK(d.step == next_step::retry_aside);
  CHECK(d.delay == 50ms); // half of min(1 s, 100 ms)
  r.attempts = 2;
  d = policy::decide(config, r, false, false, always, half);
  CHECK(d.delay == 100ms); // half of 200 ms
  r.attempts = 3;
  CHECK(policy::decide(config, r, false, false, always, half).step == next_step::deliver);

  config.ordered_delivery = true; // a record set aside would block the window
  r.attempts = 1;
  CHECK(policy::decide(config, r, false, false, always, half).step == next_step::retry_here);
}

TEST_CASE("decide: no retry once cancelled, nor of a cancelled attempt", "[policy][attempt]")
{
  auto config = retrying(5);
  auto r = attempted(task_status::failed, 1);
  CHECK(policy::decide(config, r, false, true, always, half).step == next_step::deliver);
  auto c = attempted(task_status::cancelled, 1);
  CHECK(policy::decide(config, c, false, false, always, half).step == next_step::deliver);
}

TEST_CASE("decide: push-backs run again up to max_pushbacks and use up no retry",
          "[policy][attempt][pushback]")
{
  auto config = retrying(2);
  config.max_pushbacks = 2;
  auto r = attempted(task_status::failed, 1);
  auto d = policy::decide(config, r, true, false, never, half);
  CHECK(d.step == next_step::run_again);
  CHECK(r.pushbacks == 1);
  CHECK(r.status == task_status::cancelled); // until it runs again
  r.attempts = 2;
  r.status = task_status::failed;
  CHECK(policy::decide(config, r, true, false, never, half).step == next_step::run_again);
  r.attempts = 3;
  r.status = task_status::failed;
  // The third push-back is one too many: final, failed with the retry_after.
  CHECK(policy::decide(config, r, true, false, never, half).step == next_step::deliver);
  CHECK(r.pushbacks == 3);
  CHECK(r.status == task_status::failed);

  // Two push-backs, then a failure: one retry is still left (attempts 3,
  // of which 2 push-backs: 1 failure < max_attempts 2).
  auto f = attempted(task_status::failed, 3, 2);
  CHECK(policy::decide(config, f, false, false, always, half).step == next_step::retry_aside);
}

TEST_CASE("decide: pushed back while the job is cancelled: cancelled, keeps its error",
          "[policy][attempt][pushback]")
{
  JobConfig config;
  auto r = attempted(task_status::failed, 1);
  CHECK(policy::decide(config, r, true, true, never, half).step == next_step::deliver);
  CHECK(r.status == task_status::cancelled);
}

TEST_CASE("backoff: full jitter below min(max, initial * multiplier^(n-1))", "[policy][retry]")
{
  JobConfig::Retry p;
  p.initial_backoff = 100ms;
  p.max_backoff = 1s;
  p.multiplier = 3;
  CHECK(policy::backoff(p, 1, 0.0) == 0ns);
  CHECK(policy::backoff(p, 1, 0.999) < 100ms);
  CHECK(policy::backoff(p, 1, 0.5) == 50ms);
  CHECK(policy::backoff(p, 2, 0.5) == 150ms);
  CHECK(policy::backoff(p, 3, 0.5) == 450ms);
  CHECK(policy::backoff(p, 4, 0.5) == 500ms);  // capped at 1 s
  CHECK(policy::backoff(p, 40, 0.5) == 500ms); // no overflow however many
  std::array<int, 10> deciles{}; // the draws spread over [0, 1): 100 expected in each tenth
  for (int i = 0; i < 1000; ++i)
  {
    const double u = policy::jitter();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    ++deciles[static_cast<std::size_t>(u * 10)];
  }
  for (int n : deciles)
    CHECK(n >= 50); // below 50 of 1,000 uniform draws: odds under 1e-9
}

TEST_CASE("failure budget: max_failures counts failed and timed out, and 1 aborts at the first",
          "[policy][budget]")
{
  JobConfig::FailureBudget b;
  CHECK_FALSE(policy::budgeted(b));
  b.max_failures = 1;
  REQUIRE(policy::budgeted(b));
  CHECK_FALSE(policy::over_budget(b, {10, 0, 5, 0}));
  CHECK(policy::over_budget(b, {10, 1, 0, 0}));
  CHECK(policy::over_budget(b, {10, 0, 0, 1}));
  b.max_failures = 3;
  CHECK_FALSE(policy::over_budget(b, {0, 1, 0, 1}));
  CHECK(policy::over_budget(b, {0, 2, 0, 1}));
}

TEST_CASE("failure budget: the ratio applies from min_results on, strictly above",
          "[policy][budget]")
{
  JobConfig::FailureBudget b;
  b.max_failure_ratio = 0.25;
  b.min_results = 8;
  CHECK_FALSE(policy::over_budget(b, {0, 7, 0, 0})); // 7 results: too few to judge
  CHECK(policy::over_budget(b, {1, 7, 0, 0}));       // 8 results, 7 failures
  CHECK_FALSE(policy::over_budget(b, {6, 2, 0, 0})); // exactly 25%: not above
  CHECK(policy::over_budget(b, {5, 2, 0, 1}));       // 3 of 8
  CHECK_FALSE(policy::over_budget(b, {5, 2, 1, 0})); // cancelled results count as results
  // Reached by successes after the failures: 7 of 28 (25%) over 16%.
  b.max_failure_ratio = 0.16;
  b.min_results = 23;
  CHECK(policy::over_budget(b, {21, 7, 0, 0}));
}
