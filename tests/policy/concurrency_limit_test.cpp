// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The AIMD concurrency limit: additive increase, multiplicative decrease
// once per epoch, parking and waking. Deterministic: no io_context.
#include <jobrunner/detail/policy/concurrency_limit.hpp>

#include "test_support.hpp"

#include <cstddef>
#include <vector>

using jobrunner::JobConfig;
using jobrunner::detail::policy::concurrency_limit;

namespace {

JobConfig::AdaptiveConcurrency adaptive(std::size_t min, std::size_t initial, double factor)
{
  JobConfig::AdaptiveConcurrency a;
  a.enabled = true;
  a.min_workers = min;
  a.initial_workers = initial;
  a.decrease_factor = factor;
  return a;
}

} // namespace

TEST_CASE("AIMD: grows by one per window of successes, up to the workers", "[policy][adaptive]")
{
  concurrency_limit limit(6, adaptive(1, 2, 0.5));
  std::vector<std::size_t> woken;
  auto wake = [&](std::size_t w) { woken.push_back(w); };
  CHECK(limit.current() == 2);
  // Worker 3 is above the limit: it parks.
  CHECK(limit.admit_or_park(1));
  CHECK_FALSE(limit.admit_or_park(3));
  // +1/limit per success: 2 -> 2.5 -> 2.9 -> 3.24 (3) -> 3.55 -> 3.83 -> 4.10 (4).
  for (int i = 0; i < 3; ++i)
    limit.on_success(wake);
  CHECK(limit.current() == 3);
  CHECK(woken.empty());
  limit.on_success(wake);
  limit.on_success(wake);
  CHECK(limit.current() == 3);
  limit.on_success(wake); // the 6th: 4, and worker 3 may take items again
  CHECK(limit.current() == 4);
  CHECK(woken == std::vector<std::size_t>{3});
  for (int i = 0; i < 100; ++i)
    limit.on_success(wake);
  CHECK(limit.current() == 6); // capped at the workers
}

TEST_CASE("AIMD: one cut per epoch, never below min_workers", "[policy][adaptive]")
{
  concurrency_limit limit(16, adaptive(3, 0, 0.5));
  auto wake = [](std::size_t) {};
  CHECK(limit.current() == 16);
  const auto e0 = limit.epoch();
  limit.on_overload(e0, wake); // 16 -> 8, a new epoch
  CHECK(limit.current() == 8);
  limit.on_overload(e0, wake); // a task started before the cut: ignored
  CHECK(limit.current() == 8);
  const auto e1 = limit.epoch();
  CHECK(e1 == e0 + 1);
  limit.on_overload(e1, wake);            // 8 -> 4
  limit.on_overload(limit.epoch(), wake); // 4 -> 3 (min), not 2
  CHECK(limit.current() == 3);
  CHECK(limit.lowest() == 3);
  limit.on_overload(limit.epoch(), wake);
  CHECK(limit.current() == 3);
}

TEST_CASE("AIMD: end of input wakes every parked worker and admits all", "[policy][adaptive]")
{
  concurrency_limit limit(4, adaptive(1, 1, 0.5));
  std::vector<std::size_t> woken;
  CHECK_FALSE(limit.admit_or_park(2));
  CHECK_FALSE(limit.admit_or_park(3));
  limit.end_of_input([&](std::size_t w) { woken.push_back(w); });
  CHECK(woken == std::vector<std::size_t>{2, 3});
  CHECK(limit.admit_or_park(3));
}
