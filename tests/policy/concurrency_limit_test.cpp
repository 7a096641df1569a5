// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The adaptive concurrency limit: growth only while it binds, one cut per
// epoch, parking and waking. Deterministic: no io_context, no clock.
#include <jobrunner/detail/policy/concurrency_limit.hpp>

#include "test_support.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <vector>

using jobrunner::JobConfig;
using jobrunner::detail::policy::concurrency_limit;
using jobrunner::detail::policy::limit_outcome;
using jobrunner::detail::policy::limit_ticket;

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

constexpr auto latency = std::chrono::milliseconds(100);

// Keeps the limit full: starts tasks until `limit.current()` are in
// flight, then the last one started (with the limit full) succeeds.
template <class Wake>
void succeed_at_full_load(concurrency_limit& limit, std::deque<limit_ticket>& in_flight, Wake& wake)
{
  while (in_flight.size() < limit.current())
    in_flight.push_back(limit.start());
  limit.finish(in_flight.back(), limit_outcome::success, latency, wake);
  in_flight.pop_back();
}

} // namespace

TEST_CASE("AIMD: grows by one per window of successes, up to the workers", "[policy][adaptive]")
{
  concurrency_limit limit(6, adaptive(1, 2, 0.5));
  std::vector<std::size_t> woken;
  auto wake = [&](std::size_t w) { woken.push_back(w); };
  std::deque<limit_ticket> in_flight;
  CHECK(limit.current() == 2);
  // Worker 3 is above the limit: it parks.
  CHECK(limit.admit_or_park(1));
  CHECK_FALSE(limit.admit_or_park(3));
  // +1/limit per success: 2 -> 2.5 -> 2.9 -> 3.24 (3) -> 3.55 -> 3.83 -> 4.10 (4).
  for (int i = 0; i < 3; ++i)
    succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() == 3);
  CHECK(woken.empty());
  succeed_at_full_load(limit, in_flight, wake);
  succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() == 3);
  succeed_at_full_load(limit, in_flight, wake); // the 6th: 4, and worker 3 may take items again
  CHECK(limit.current() == 4);
  CHECK(woken == std::vector<std::size_t>{3});
  for (int i = 0; i < 100; ++i)
    succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() == 6); // capped at the workers
}

TEST_CASE("AIMD: successes with in-flight well below the limit do not grow it",
          "[policy][adaptive]")
{
  // A rate limit (or a slow producer) keeps 2 of 8 allowed tasks in flight:
  // the limit is not what binds, and must not drift up to the workers.
  concurrency_limit limit(40, adaptive(1, 8, 0.5));
  auto wake = [](std::size_t) {};
  for (int i = 0; i < 1000; ++i)
  {
    const auto a = limit.start();
    const auto b = limit.start();
    limit.finish(a, limit_outcome::success, latency, wake);
    limit.finish(b, limit_outcome::success, latency, wake);
  }
  CHECK(limit.current() == 8);
  // Near the limit: 6 of 8 in flight (three quarters) grows it.
  std::vector<limit_ticket> six;
  for (int i = 0; i < 6; ++i)
    six.push_back(limit.start());
  for (const auto& t : six)
    limit.finish(t, limit_outcome::success, latency, wake);
  CHECK(limit.current() == 8); // +1/8 for the 6th only: 8.125
  for (int round = 0; round < 8; ++round)
  {
    six.clear();
    for (int i = 0; i < 6; ++i)
      six.push_back(limit.start());
    for (const auto& t : six)
      limit.finish(t, limit_outcome::success, latency, wake);
  }
  CHECK(limit.current() == 9); // 9 successes that bound: 8 + 9/8.x
}

TEST_CASE("AIMD: near means three quarters of the limit in flight", "[policy][adaptive]")
{
  CHECK(concurrency_limit::binds(1, 1));
  CHECK_FALSE(concurrency_limit::binds(1, 2));
  CHECK(concurrency_limit::binds(2, 2));
  CHECK_FALSE(concurrency_limit::binds(5, 8));
  CHECK(concurrency_limit::binds(6, 8));
  CHECK_FALSE(concurrency_limit::binds(74, 100));
  CHECK(concurrency_limit::binds(75, 100));
}

TEST_CASE("AIMD: failures and cancellations neither grow nor cut it", "[policy][adaptive]")
{
  concurrency_limit limit(8, adaptive(1, 4, 0.5));
  auto wake = [](std::size_t) {};
  for (int i = 0; i < 50; ++i)
  {
    const auto t = limit.start();
    limit.finish(t, limit_outcome::other, latency, wake);
  }
  CHECK(limit.current() == 4);
  CHECK(limit.epoch() == 0);
}

TEST_CASE("AIMD: one cut per epoch, never below min_workers", "[policy][adaptive]")
{
  concurrency_limit limit(16, adaptive(3, 0, 0.5));
  auto wake = [](std::size_t) {};
  CHECK(limit.current() == 16);
  const auto early = limit.start();
  const auto t0 = limit.start();
  CHECK(t0.epoch == 0);
  limit.finish(t0, limit_outcome::overload, latency, wake); // 16 -> 8, a new epoch
  CHECK(limit.current() == 8);
  limit.finish(early, limit_outcome::overload, latency, wake); // started before the cut: ignored
  CHECK(limit.current() == 8);
  const auto t1 = limit.start();
  CHECK(t1.epoch == 1);
  limit.finish(t1, limit_outcome::overload, latency, wake); // 8 -> 4
  const auto t2 = limit.start();
  limit.finish(t2, limit_outcome::overload, latency, wake); // 4 -> 3 (min), not 2
  CHECK(limit.current() == 3);
  CHECK(limit.lowest() == 3);
  const auto t3 = limit.start();
  limit.finish(t3, limit_outcome::overload, latency, wake);
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

TEST_CASE("gradient: selected by the config, wakes parked workers as it grows",
          "[policy][adaptive]")
{
  auto a = adaptive(1, 2, 0.5);
  a.algorithm = JobConfig::AdaptiveConcurrency::algorithm_kind::gradient;
  concurrency_limit limit(8, a);
  std::vector<std::size_t> woken;
  auto wake = [&](std::size_t w) { woken.push_back(w); };
  std::deque<limit_ticket> in_flight;
  CHECK_FALSE(limit.admit_or_park(5));
  for (int i = 0; i < 200; ++i) // a flat latency: up to the workers
    succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() == 8);
  CHECK(woken == std::vector<std::size_t>{5});
  const auto t = limit.start();
  limit.finish(t, limit_outcome::overload, latency, wake); // a timeout: cut as AIMD does
  CHECK(limit.current() == 4);
}
