// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The circuit breaker's decisions on a manual clock: no timer, no
// io_context, no sleeping.
#include <jobrunner/detail/policy/circuit_breaker.hpp>

#include "test_support.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>

using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::detail::policy::admission;
using jobrunner::detail::policy::breaker_state;
using jobrunner::detail::policy::call_outcome;
using jobrunner::detail::policy::circuit_breaker;
using clock_type = std::chrono::steady_clock;

namespace {

const clock_type::time_point t0 = clock_type::time_point(1000s);

JobConfig::CircuitBreaker consecutive(std::size_t n)
{
  JobConfig::CircuitBreaker c;
  c.enabled = true;
  c.failure_rate = 0;
  c.consecutive_failures = n;
  c.open_time = 1s;
  c.open_time_multiplier = 2;
  c.max_open_time = 5s;
  c.probes = 1;
  c.half_open_time = 10s;
  return c;
}

// One attempt at `now` with outcome `o`; returns whether it was admitted.
bool call(circuit_breaker& b, clock_type::time_point now, call_outcome o)
{
  const auto a = b.admit(now);
  if (a.kind != admission::go)
    return false;
  b.on_outcome(a.ticket, o, now);
  return true;
}

} // namespace

TEST_CASE("breaker: opens after N consecutive failures, a success resets the count",
          "[policy][breaker]")
{
  circuit_breaker b(consecutive(3));
  CHECK(call(b, t0, call_outcome::failure));
  CHECK(call(b, t0, call_outcome::failure));
  CHECK(call(b, t0, call_outcome::success));
  CHECK(call(b, t0, call_outcome::failure));
  CHECK(call(b, t0, call_outcome::failure));
  CHECK(b.state() == breaker_state::closed);
  CHECK(call(b, t0, call_outcome::failure));
  CHECK(b.state() == breaker_state::open);
  const auto a = b.admit(t0 + 10ms);
  CHECK(a.kind == admission::wait);
  CHECK(a.until == t0 + 1s);
}

TEST_CASE("breaker: the failure rate counts only once min_calls are in the window",
          "[policy][breaker]")
{
  JobConfig::CircuitBreaker c = consecutive(0);
  c.failure_rate = 0.5;
  c.window = 10;
  c.min_calls = 6;
  circuit_breaker b(c);
  for (int i = 0; i < 5; ++i) // 5 failures of 5 calls: below min_calls
    CHECK(call(b, t0, call_outcome::failure));
  CHECK(b.state() == breaker_state::closed);
  CHECK(call(b, t0, call_outcome::failure)); // 6 of 6
  CHECK(b.state() == breaker_state::open);
}

TEST_CASE("breaker: the window slides, old failures drop out", "[policy][breaker]")
{
  JobConfig::CircuitBreaker c = consecutive(0);
  c.failure_rate = 0.5;
  c.window = 4;
  c.min_calls = 4;
  circuit_breaker b(c);
  // F S S S: 1/4 failures; then S S S F S: the window holds S S F S, 1/4.
  for (auto o : {call_outcome::failure, call_outcome::success, call_outcome::success,
                 call_outcome::success, call_outcome::success, call_outcome::success,
                 call_outcome::success, call_outcome::failure, call_outcome::success})
    CHECK(call(b, t0, o));
  CHECK(b.state() == breaker_state::closed);
  CHECK(call(b, t0, call_outcome::failure)); // S F S F: 2/4
  CHECK(b.state() == breaker_state::open);
}

TEST_CASE("breaker: push-backs and cancellations are not failures", "[policy][breaker]")
{
  circuit_breaker b(consecutive(2));
  for (int i = 0; i < 10; ++i)
  {
    CHECK(call(b, t0, call_outcome::neutral));
    CHECK(call(b, t0, call_outcome::failure));
    CHECK(call(b, t0, call_outcome::neutral));
    CHECK(call(b, t0, call_outcome::success));
  }
  CHECK(b.state() == breaker_state::closed);
}

TEST_CASE("breaker: half-open lets a bounded number of probes through, then closes",
          "[policy][breaker]")
{
  auto c = consecutive(1);
  c.probes = 2;
  circuit_breaker b(c);
  CHECK(call(b, t0, call_outcome::failure));
  CHECK(b.admit(t0 + 999ms).kind == admission::wait);
  const auto p1 = b.admit(t0 + 1s);
  const auto p2 = b.admit(t0 + 1s);
  const auto third = b.admit(t0 + 1s);
  REQUIRE(p1.kind == admission::go);
  REQUIRE(p2.kind == admission::go);
  CHECK(b.state() == breaker_state::half_open);
  CHECK(third.kind == admission::wait);
  CHECK(third.until == t0 + 11s); // the half-open time cap
  CHECK_FALSE(b.on_outcome(p1.ticket, call_outcome::success, t0 + 2s));
  CHECK(b.state() == breaker_state::half_open);
  CHECK(b.on_outcome(p2.ticket, call_outcome::success, t0 + 2s)); // closed: wake the waiters
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.admit(t0 + 2s).kind == admission::go);
}

TEST_CASE("breaker: a failed probe reopens for longer, up to the cap, and a close resets it",
          "[policy][breaker]")
{
  circuit_breaker b(consecutive(1)); // open 1 s, x2, at most 5 s
  auto now = t0;
  CHECK(call(b, now, call_outcome::failure));
  for (auto expected : {1s, 2s, 4s, 5s, 5s})
  {
    const auto w = b.admit(now);
    REQUIRE(w.kind == admission::wait);
    CHECK(w.until - now == expected);
    now = w.until;
    CHECK(call(b, now, call_outcome::failure)); // the probe fails
  }
  const auto w = b.admit(now);
  REQUIRE(w.kind == admission::wait);
  now = w.until;
  CHECK(call(b, now, call_outcome::success));
  CHECK(b.state() == breaker_state::closed);
  CHECK(call(b, now, call_outcome::failure));
  CHECK(b.admit(now).until - now == 1s);
  CHECK(b.times_opened() == 7);
}

TEST_CASE("breaker: half-open without a verdict within its time cap counts as a failed probe",
          "[policy][breaker]")
{
  circuit_breaker b(consecutive(1));
  CHECK(call(b, t0, call_outcome::failure));
  const auto probe = b.admit(t0 + 1s); // hangs
  REQUIRE(probe.kind == admission::go);
  const auto w = b.admit(t0 + 1s + 10s); // the cap: open again for 2 s
  REQUIRE(w.kind == admission::wait);
  CHECK(b.state() == breaker_state::open);
  CHECK(w.until == t0 + 11s + 2s);
  // The probe's late success belongs to an older state: ignored.
  CHECK_FALSE(b.on_outcome(probe.ticket, call_outcome::success, t0 + 12s));
  CHECK(b.state() == breaker_state::open);
}

TEST_CASE("breaker: a neutral probe gives its slot back", "[policy][breaker]")
{
  circuit_breaker b(consecutive(1));
  CHECK(call(b, t0, call_outcome::failure));
  const auto probe = b.admit(t0 + 1s);
  REQUIRE(probe.kind == admission::go);
  CHECK(b.admit(t0 + 1s).kind == admission::wait);
  CHECK(b.on_outcome(probe.ticket, call_outcome::neutral, t0 + 1s)); // wake: a slot is free
  CHECK(b.admit(t0 + 1s).kind == admission::go);
}

TEST_CASE("breaker: outcomes of attempts started before it opened are ignored", "[policy][breaker]")
{
  circuit_breaker b(consecutive(2));
  const auto a1 = b.admit(t0);
  const auto a2 = b.admit(t0);
  const auto a3 = b.admit(t0);
  b.on_outcome(a1.ticket, call_outcome::failure, t0);
  b.on_outcome(a2.ticket, call_outcome::failure, t0);
  REQUIRE(b.state() == breaker_state::open);
  // a3 was in flight when it opened: its failure does not reopen or extend.
  b.on_outcome(a3.ticket, call_outcome::failure, t0 + 500ms);
  CHECK(b.admit(t0 + 500ms).until == t0 + 1s);
  CHECK(b.times_opened() == 1);
}

TEST_CASE("breaker: gives up after give_up_after without closing", "[policy][breaker]")
{
  auto c = consecutive(1);
  c.give_up_after = 4s;
  circuit_breaker b(c);
  CHECK(call(b, t0, call_outcome::failure)); // open at t0 for 1 s
  CHECK(b.admit(t0).until == t0 + 1s);
  CHECK(call(b, t0 + 1s, call_outcome::failure)); // probe fails: open 2 s more
  // The next wait ends at the give-up time, not at the end of the open time.
  const auto w = b.admit(t0 + 3s);
  REQUIRE(w.kind == admission::go);                       // half-open at t0 + 3 s
  b.on_outcome(w.ticket, call_outcome::failure, t0 + 3s); // open until t0 + 7 s
  const auto last = b.admit(t0 + 3s);
  REQUIRE(last.kind == admission::wait);
  CHECK(last.until == t0 + 4s);
  CHECK(b.admit(t0 + 4s).kind == admission::unavailable);
}

TEST_CASE("breaker: a recovery before the give-up time starts the outage clock again",
          "[policy][breaker]")
{
  auto c = consecutive(1);
  c.give_up_after = 3s;
  circuit_breaker b(c);
  CHECK(call(b, t0, call_outcome::failure));
  CHECK(call(b, t0 + 1s, call_outcome::success)); // closed again
  CHECK(call(b, t0 + 2s, call_outcome::failure)); // a new outage from t0 + 2 s
  CHECK(b.admit(t0 + 2500ms).kind == admission::wait);
  CHECK(b.admit(t0 + 5s).kind == admission::unavailable);
}

TEST_CASE("breaker: validate() rejects a breaker with no rule and bad times", "[policy][breaker]")
{
  JobConfig config;
  config.circuit_breaker.enabled = true;
  CHECK_NOTHROW(config.validate());
  config.circuit_breaker.failure_rate = 0;
  CHECK_THROWS_AS(config.validate(), std::invalid_argument);
  config.circuit_breaker.consecutive_failures = 5;
  CHECK_NOTHROW(config.validate());
  config.circuit_breaker.max_open_time = config.circuit_breaker.open_time / 2;
  CHECK_THROWS_AS(config.validate(), std::invalid_argument);
}
