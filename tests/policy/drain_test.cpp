// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// JobRunner::drain's request: first call, grace deadlines (the earliest
// wins). Deterministic: the time is passed in.
#include <jobrunner/detail/policy/drain.hpp>

#include "test_support.hpp"

#include <chrono>

using jobrunner::detail::policy::drain_request;
using namespace std::chrono_literals;

TEST_CASE("drain request: the first call starts it, later ones only bring the deadline earlier",
          "[policy][drain]")
{
  drain_request d;
  const drain_request::clock::time_point t0{1h};
  CHECK_FALSE(d.requested());
  CHECK_FALSE(d.deadline());

  auto c = d.request(std::nullopt, t0);
  CHECK(c.first);
  CHECK_FALSE(c.deadline);
  CHECK(d.requested());
  CHECK_FALSE(d.deadline());

  c = d.request(10s, t0 + 1s);
  CHECK_FALSE(c.first);
  CHECK(c.deadline);
  CHECK(d.deadline() == t0 + 11s);

  c = d.request(1h, t0 + 2s); // later: ignored
  CHECK_FALSE(c.deadline);
  CHECK(d.deadline() == t0 + 11s);

  c = d.request(std::nullopt, t0 + 3s); // no grace: keeps the deadline
  CHECK_FALSE(c.first);
  CHECK(d.deadline() == t0 + 11s);

  c = d.request(-5s, t0 + 4s); // a negative grace is none: at once
  CHECK(c.deadline);
  CHECK(d.deadline() == t0 + 4s);
}

TEST_CASE("drain request: a huge grace saturates instead of overflowing", "[policy][drain]")
{
  drain_request d;
  auto c = d.request(std::chrono::nanoseconds::max(), drain_request::clock::time_point{1h});
  CHECK(c.first);
  CHECK(c.deadline);
  REQUIRE(d.deadline());
  CHECK(*d.deadline() > drain_request::clock::time_point{1h});
}
