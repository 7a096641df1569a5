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

TEST_CASE("AIMD: grows one per limit rounds between 0.9 x the last cut's limit and it",
          "[policy][adaptive]")
{
  concurrency_limit limit(40, adaptive(1, 20, 0.5));
  auto wake = [](std::size_t) {};
  std::deque<limit_ticket> in_flight;
  const auto t0 = limit.start();
  limit.finish(t0, limit_outcome::overload, latency, wake); // 20 -> 10: the cut remembers 20
  REQUIRE(limit.current() == 10);
  // One per round up to 18 (0.9 x 20): about 10 + 11 + ... + 17 = 108 successes.
  for (int i = 0; i < 120; ++i)
    succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() == 18);
  // Then one per `limit` rounds (+1/limit^2 per success): without the
  // caution, 40 more successes would have taken it to 20, where it was cut.
  for (int i = 0; i < 40; ++i)
    succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() == 18);
  // 18.1 -> 20 takes about (20^3 - 18.1^3) / 3 = 670 successes; above 20
  // one per round again.
  int successes = 0;
  while (limit.current() < 20)
  {
    succeed_at_full_load(limit, in_flight, wake);
    ++successes;
  }
  CHECK(successes > 600);
  CHECK(successes < 750);
  for (int i = 0; i < 110; ++i)
    succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() >= 24);
}

TEST_CASE("AIMD: a second cut before any growth keeps the first cut's limit", "[policy][adaptive]")
{
  // The queue the overload built drains after the cut: the next tasks
  // time out too, and the limit is cut again, but 20 was what overloaded.
  concurrency_limit limit(40, adaptive(1, 20, 0.5));
  auto wake = [](std::size_t) {};
  std::deque<limit_ticket> in_flight;
  const auto t0 = limit.start();
  limit.finish(t0, limit_outcome::overload, latency, wake); // 20 -> 10
  const auto t1 = limit.start();
  limit.finish(t1, limit_outcome::overload, latency, wake); // 10 -> 5, no growth between
  REQUIRE(limit.current() == 5);
  int successes = 0;
  while (limit.current() < 18)
  {
    succeed_at_full_load(limit, in_flight, wake);
    ++successes;
  }
  CHECK(successes < 160); // 5 + 6 + ... + 17 = 143 at one per round
  for (int i = 0; i < 40; ++i)
    succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() == 18); // cautious below 20, as after one cut
}

TEST_CASE("AIMD: successes of tasks started before a cut do not count as growth since it",
          "[policy][adaptive]")
{
  concurrency_limit limit(40, adaptive(1, 20, 0.5));
  auto wake = [](std::size_t) {};
  std::deque<limit_ticket> in_flight;
  std::deque<limit_ticket> before_cut;
  while (before_cut.size() < 20)
    before_cut.push_back(limit.start());
  limit.finish(before_cut.front(), limit_outcome::overload, latency, wake); // 20 -> 10
  before_cut.pop_front();
  limit.finish(before_cut.back(), limit_outcome::success, latency, wake); // the old queue drains
  const auto t1 = limit.start();
  limit.finish(t1, limit_outcome::overload, latency, wake); // the same overload
  while (limit.current() < 18)
    succeed_at_full_load(limit, in_flight, wake);
  for (int i = 0; i < 40; ++i)
    succeed_at_full_load(limit, in_flight, wake);
  CHECK(limit.current() == 18); // cautious below 20
}

namespace {

// The gradient limit over `workers`, starting at all of them.
JobConfig::AdaptiveConcurrency gradient_of(std::size_t workers)
{
  auto a = adaptive(1, workers, 0.5);
  a.algorithm = JobConfig::AdaptiveConcurrency::algorithm_kind::gradient;
  return a;
}

// A flat latency at the full limit for a while, then nothing in flight.
template <class Wake>
void settle_at_full_load(concurrency_limit& limit, Wake& wake)
{
  std::deque<limit_ticket> in_flight;
  for (int i = 0; i < 50; ++i)
    succeed_at_full_load(limit, in_flight, wake);
  for (; !in_flight.empty(); in_flight.pop_back())
    limit.finish(in_flight.back(), limit_outcome::success, latency, wake);
}

} // namespace

TEST_CASE("gradient: a task started with more than the limit in flight is no sample of it",
          "[policy][adaptive]")
{
  concurrency_limit limit(8, gradient_of(8));
  auto wake = [](std::size_t) {};
  settle_at_full_load(limit, wake);
  REQUIRE(limit.current() == 8);
  std::vector<limit_ticket> old_round;
  for (int i = 0; i < 8; ++i)
  {
    old_round.push_back(limit.start());
    CHECK(old_round.back().within);
  }
  limit.finish(old_round.back(), limit_outcome::success, 10 * latency, wake); // a cut
  old_round.pop_back();
  const auto after_cut = limit.current();
  REQUIRE(after_cut < 8);
  // The old round's 7 tasks still run: a start now meets more than the
  // limit in flight, and its latency is not the new limit's.
  const auto over = limit.start();
  CHECK_FALSE(over.within);
  limit.finish(over, limit_outcome::success, 10 * latency, wake);
  CHECK(limit.current() == after_cut);
  for (const auto& t : old_round) // stale: started before the cut
    limit.finish(t, limit_outcome::success, 10 * latency, wake);
  CHECK(limit.current() == after_cut);
  // Slow tasks started within the new limit cut it again.
  for (int i = 0; i < 20 && limit.current() == after_cut; ++i)
  {
    const auto t = limit.start();
    CHECK(t.within);
    limit.finish(t, limit_outcome::success, 10 * latency, wake);
  }
  CHECK(limit.current() < after_cut);
}

TEST_CASE("gradient: one task left from before a cut does not hold the limit still",
          "[policy][adaptive]")
{
  concurrency_limit limit(8, gradient_of(8));
  auto wake = [](std::size_t) {};
  settle_at_full_load(limit, wake);
  REQUIRE(limit.current() == 8);
  const auto left = limit.start(); // a slow task that will outlast the cut
  std::vector<limit_ticket> round;
  for (int i = 0; i < 7; ++i)
    round.push_back(limit.start());
  limit.finish(round.back(), limit_outcome::success, 10 * latency, wake); // a cut
  round.pop_back();
  const auto after_cut = limit.current();
  REQUIRE(after_cut < 8);
  // The workers under the new limit keep it full while `left` still runs:
  // each start meets more than the limit in flight. After a round of
  // starts they count again, and a slow service cuts.
  std::deque<limit_ticket> full(round.begin(), round.end()); // the old round, stale
  bool stale_seen = false;
  for (int i = 0; i < 40 && limit.current() == after_cut; ++i)
  {
    full.push_back(limit.start());
    stale_seen = stale_seen || !full.back().within;
    limit.finish(full.front(), limit_outcome::success, 10 * latency, wake);
    full.pop_front();
  }
  CHECK(stale_seen); // the first round was not the new limit's
  CHECK(limit.current() < after_cut);
  limit.finish(left, limit_outcome::success, latency, wake);
}
