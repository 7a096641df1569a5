// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The retry budget on a manual clock: no timer, no io_context.
#include <jobrunner/detail/policy/retry_budget.hpp>

#include "test_support.hpp"

#include <chrono>
#include <stdexcept>

using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::detail::policy::retry_budget;
using clock_type = std::chrono::steady_clock;

namespace {

const clock_type::time_point t0 = clock_type::time_point(1000s);

JobConfig::RetryBudget budget(double ratio, double floor)
{
  JobConfig::RetryBudget c;
  c.enabled = true;
  c.ratio = ratio;
  c.min_per_second = floor;
  c.window = 10s;
  return c;
}

int retries_allowed(retry_budget& b, clock_type::time_point now, int asked)
{
  int n = 0;
  for (int i = 0; i < asked; ++i)
    n += b.try_retry(now) ? 1 : 0;
  return n;
}

} // namespace

TEST_CASE("retry budget: retries add at most ratio of the first attempts", "[policy][budget]")
{
  retry_budget b(budget(0.2, 0));
  for (int i = 0; i < 100; ++i)
    b.on_first_attempt(t0);
  CHECK(retries_allowed(b, t0, 1000) == 20);
  for (int i = 0; i < 10; ++i) // 10 more first attempts: 2 more retries
    b.on_first_attempt(t0 + 1s);
  CHECK(retries_allowed(b, t0 + 1s, 1000) == 2);
}

TEST_CASE("retry budget: the floor allows min_per_second over the window without first attempts",
          "[policy][budget]")
{
  retry_budget b(budget(0.2, 5)); // 50 over 10 s
  CHECK(retries_allowed(b, t0, 1000) == 50);
  CHECK_FALSE(b.try_retry(t0 + 5s));
  // Once the window has passed, the old retries no longer count.
  CHECK(retries_allowed(b, t0 + 11s, 1000) == 50);
}

TEST_CASE("retry budget: first attempts older than the window no longer pay for retries",
          "[policy][budget]")
{
  retry_budget b(budget(1.0, 0));
  for (int i = 0; i < 40; ++i)
    b.on_first_attempt(t0);
  CHECK(retries_allowed(b, t0 + 9s, 10) == 10);
  CHECK(retries_allowed(b, t0 + 20s, 10) == 0); // the 40 first attempts expired
  b.on_first_attempt(t0 + 20s);
  CHECK(retries_allowed(b, t0 + 20s, 10) == 1);
}

TEST_CASE("retry budget: an outage of all-failing calls retries at the ratio, not at every item",
          "[policy][budget]")
{
  // 1000 items a second for 30 s, every attempt failing and asking for a
  // retry: the retries stay within 20% of first attempts plus 10 a second.
  retry_budget b(budget(0.2, 10));
  long firsts = 0, retries = 0;
  for (int ms = 0; ms < 30000; ++ms)
  {
    const auto now = t0 + std::chrono::milliseconds(ms);
    b.on_first_attempt(now);
    ++firsts;
    retries += b.try_retry(now) ? 1 : 0;
  }
  CHECK(retries <= firsts / 5 + 10 * 30 + 100); // + 100: the first window's reserve
  CHECK(retries >= firsts / 5);
}

TEST_CASE("retry budget: validate() rejects bad fields", "[policy][budget]")
{
  JobConfig config;
  config.retry_budget.enabled = true;
  CHECK_NOTHROW(config.validate());
  config.retry_budget.window = 0s;
  CHECK_THROWS_AS(config.validate(), std::invalid_argument);
  config.retry_budget.window = 1s;
  config.retry_budget.ratio = -1;
  CHECK_THROWS_AS(config.validate(), std::invalid_argument);
}
