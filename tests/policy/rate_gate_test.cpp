// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The GCRA rate gate and the push-back pause, on a manual clock: no timer,
// no io_context, no sleeping.
#include <jobrunner/detail/policy/dispatch_gate.hpp>
#include <jobrunner/detail/policy/rate_gate.hpp>

#include "test_support.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::detail::policy::dispatch_gate;
using jobrunner::detail::policy::rate_gate;
using clock_type = std::chrono::steady_clock;

namespace {

const clock_type::time_point t0 = clock_type::time_point(1000s);

// The start times of `n` starts all asked for at `asked`.
std::vector<clock_type::time_point> starts(rate_gate& gate, clock_type::time_point asked, int n)
{
  std::vector<clock_type::time_point> out;
  for (int i = 0; i < n; ++i)
    out.push_back(gate.reserve(asked));
  return out;
}

} // namespace

TEST_CASE("rate gate: a burst starts at once, then one start per interval", "[policy][rate]")
{
  rate_gate gate(100, 5); // 10 ms apart, 5 at once
  auto s = starts(gate, t0, 8);
  for (int i = 0; i < 5; ++i)
    CHECK(s[static_cast<std::size_t>(i)] == t0);
  CHECK(s[5] == t0 + 10ms);
  CHECK(s[6] == t0 + 20ms);
  CHECK(s[7] == t0 + 30ms);
}

TEST_CASE("rate gate: in any window of d seconds at most rate * d + burst starts", "[policy][rate]")
{
  const double rate = 250;
  const std::size_t burst = 7;
  rate_gate gate(rate, burst);
  // Askers arrive in clumps and gaps, always at the earliest they may.
  std::vector<clock_type::time_point> all;
  auto now = t0;
  for (int round = 0; round < 200; ++round)
  {
    const int clump = (round * 7919) % 13;
    for (int k = 0; k < clump; ++k)
      all.push_back(gate.reserve(now));
    now += std::chrono::milliseconds((round * 31) % 17);
  }
  std::sort(all.begin(), all.end());
  for (auto d : {10ms, 50ms, 100ms, 1000ms})
  {
    const auto bound = rate * std::chrono::duration<double>(d).count() + static_cast<double>(burst);
    for (std::size_t i = 0; i < all.size(); ++i)
    {
      std::size_t j = i;
      while (j < all.size() && all[j] < all[i] + d)
        ++j;
      REQUIRE(static_cast<double>(j - i) <= bound);
    }
  }
}

TEST_CASE("rate gate: an idle gate does not bank more than the burst", "[policy][rate]")
{
  rate_gate gate(10, 3);
  (void)starts(gate, t0, 3);
  // An hour idle: still only 3 at once.
  auto s = starts(gate, t0 + 3600s, 4);
  CHECK(s[0] == t0 + 3600s);
  CHECK(s[2] == t0 + 3600s);
  CHECK(s[3] == t0 + 3600s + 100ms);
}

TEST_CASE("push-back pause: nothing starts before its end, and a later push-back extends it",
          "[policy][pushback]")
{
  JobConfig config;
  dispatch_gate gate(config);
  CHECK_FALSE(gate.active()); // no clock read before the first push-back
  CHECK(gate.paused_until() == 0);

  gate.pause(t0, 2s);
  REQUIRE(gate.active());
  auto until = gate.paused_until();
  CHECK(gate.start_time(t0 + 1s, until) == t0 + 2s);
  CHECK(gate.start_time(t0 + 3s, until) == t0 + 3s); // over: start now

  gate.pause(t0 + 1s, 500ms); // ends earlier: no change
  CHECK(gate.paused_until() == until);
  gate.pause(t0 + 1s, 5s); // ends later: extends
  CHECK(gate.start_time(t0 + 1s, gate.paused_until()) == t0 + 6s);
  // The paused time counts the covered interval once: [t0, t0 + 6 s).
  CHECK(gate.paused_total() == 6s);
}

TEST_CASE("pause and rate together: the rate slot is taken after the pause", "[policy][rate]")
{
  JobConfig config;
  config.rate_limit.per_second = 10;
  config.rate_limit.burst = 1;
  dispatch_gate gate(config);
  REQUIRE(gate.active());
  CHECK(gate.start_time(t0, gate.paused_until()) == t0);
  gate.pause(t0, 1s);
  CHECK(gate.start_time(t0, gate.paused_until()) == t0 + 1s);
  CHECK(gate.start_time(t0, gate.paused_until()) == t0 + 1s + 100ms);
}
