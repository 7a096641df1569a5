// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The task clock's calibration of the time-stamp counter against
// steady_clock (detail::tsc_period_ns), on made-up readings: exact ones,
// ones delayed between their clock reads (a thread preempted mid-reading),
// and a counter that does not keep a constant rate.
#include <jobrunner/detail/task_clock.hpp>

#include "test_support.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

using jobrunner::detail::tsc_period_ns;
using jobrunner::detail::tsc_reading;

namespace {

constexpr double period = 0.25; // ns per tick: a 4 GHz counter

// 16 readings over 250 us, each bracketed by clock reads 20 ns apart.
std::vector<tsc_reading> exact_readings()
{
  std::vector<tsc_reading> readings;
  const std::int64_t start = 1'000'000'000;
  for (std::int64_t k = 0; k < 16; ++k)
  {
    const std::int64_t at = start + k * 250'000 / 15;
    readings.push_back(
        {at - 10, static_cast<std::uint64_t>(static_cast<double>(at) / period), at + 10});
  }
  return readings;
}

double relative_error(double got)
{
  return got > period ? (got - period) / period : (period - got) / period;
}

} // namespace

TEST_CASE("exact readings give the counter's period", "[task_clock]")
{
  auto r = exact_readings();
  CHECK(relative_error(tsc_period_ns(r.data(), r.size())) < 1e-6);
}

TEST_CASE("a reading delayed between its clock reads does not skew the period", "[task_clock]")
{
  auto r = exact_readings();
  // The first reading's thread was preempted for 1.4 ms after reading
  // steady_clock and before reading the counter (and so on for another one
  // at the end): their brackets are wide.
  r[0].before_ns -= 1'400'000;
  r[15].after_ns += 900'000;
  const double got = tsc_period_ns(r.data(), r.size());
  INFO("period " << got << " ns a tick, truly " << period);
  CHECK(relative_error(got) < 1e-3);
}

TEST_CASE("readings all delayed in one half give no period: steady_clock is used", "[task_clock]")
{
  auto r = exact_readings();
  for (std::size_t k = 0; k < 8; ++k)
    r[k].after_ns += 50'000;
  CHECK(tsc_period_ns(r.data(), r.size()) == 0);
}

TEST_CASE("a counter that does not keep a constant rate gives no period", "[task_clock]")
{
  auto r = exact_readings();
  // It fell 5 us (20,000 ticks) behind between readings 5 and 6.
  for (std::size_t k = 6; k < 16; ++k)
    r[k].tsc -= 20'000;
  CHECK(tsc_period_ns(r.data(), r.size()) == 0);
}

TEST_CASE("too few readings or a counter that did not advance give no period", "[task_clock]")
{
  auto r = exact_readings();
  CHECK(tsc_period_ns(r.data(), 1) == 0);
  r[15].tsc = r[0].tsc;
  CHECK(tsc_period_ns(r.data(), r.size()) == 0);
}

TEST_CASE("the process's task clock converts ticks to nanoseconds", "[task_clock]")
{
  const auto& clock = jobrunner::detail::task_clock::instance();
  const auto a = clock.now();
  const auto b = clock.now();
  CHECK(b >= a);
  CHECK(clock.to_duration(0).count() == 0);
}
