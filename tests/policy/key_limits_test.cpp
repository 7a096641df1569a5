// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Per-key limits (issue 14), the pure decisions on a manual clock: no timer,
// no io_context, no sleeping.
#include <jobrunner/detail/policy/key_limits.hpp>

#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::detail::policy::key_limits;
using clock_type = std::chrono::steady_clock;
using start = key_limits::start;

namespace {

const clock_type::time_point t0 = clock_type::time_point(1000s);

JobConfig::PerKey cap_of(std::size_t cap, double rate = 0, std::size_t burst = 1)
{
  JobConfig::PerKey c;
  c.enabled = true;
  c.max_in_flight = cap;
  c.per_second = rate;
  c.burst = burst;
  return c;
}

} // namespace

TEST_CASE("key limits: a key at its cap sets items aside, other keys still start", "[policy][keys]")
{
  key_limits k(cap_of(1), 8, 100);
  CHECK(k.try_start("slow", t0) == start::go);
  CHECK(k.try_start("slow", t0) == start::aside);
  k.set_aside("slow", 0);
  CHECK(k.next("slow", t0).slot == key_limits::none); // the cap holds it
  CHECK(k.try_start("fast", t0) == start::go);
  CHECK(k.try_start("other", t0) == start::go);
  CHECK(k.tracked() == 3);
  // The slow key's task ends: its item set aside goes, now.
  const auto r = k.finish("slow", t0 + 1s);
  CHECK(r.slot == 0);
  CHECK(r.at == t0 + 1s);
  // Until a worker takes it, a fresh item of the key stays behind it (FIFO).
  CHECK(k.try_start("slow", t0 + 1s) == start::aside);
}

TEST_CASE("key limits: the items set aside of a key go in FIFO order, one per free slot",
          "[policy][keys]")
{
  key_limits k(cap_of(2), 8, 100);
  CHECK(k.try_start("a", t0) == start::go);
  CHECK(k.try_start("a", t0) == start::go);
  for (std::size_t s = 0; s < 5; ++s)
  {
    REQUIRE(k.try_start("a", t0) == start::aside);
    k.set_aside("a", s);
  }
  std::vector<std::size_t> order;
  auto r = k.finish("a", t0);
  while (r.slot != key_limits::none)
  {
    order.push_back(r.slot);
    CHECK(k.next("a", t0).slot == key_limits::none); // one moving at a time
    r = k.taken("a", t0);                            // at the cap again (2 running)
    if (r.slot == key_limits::none)
      r = k.finish("a", t0);
  }
  CHECK(order == std::vector<std::size_t>{0, 1, 2, 3, 4});
}

TEST_CASE("key limits: a key's rate spaces its starts, the set-aside item is released for later",
          "[policy][keys]")
{
  key_limits k(cap_of(0, 10, 2), 8, 100); // 100 ms apart, 2 at once; no cap
  CHECK(k.try_start("h", t0) == start::go);
  CHECK(k.try_start("h", t0) == start::go);
  CHECK(k.try_start("h", t0) == start::aside);
  k.set_aside("h", 3);
  const auto r = k.next("h", t0);
  CHECK(r.slot == 3);
  CHECK(r.at == t0 + 100ms); // released now, to start at its reserved time
  CHECK(k.try_start("other", t0) == start::go);
}

TEST_CASE("key limits: a key is released when idle and its rate neutral", "[policy][keys]")
{
  key_limits caps(cap_of(3), 4, 100);
  CHECK(caps.try_start("x", t0) == start::go);
  CHECK(caps.tracked() == 1);
  caps.finish("x", t0);
  CHECK(caps.tracked() == 0); // no rate: released at its last task's end

  key_limits rated(cap_of(1, 10), 4, 100);
  CHECK(rated.try_start("x", t0) == start::go);
  rated.finish("x", t0 + 10ms);
  CHECK(rated.tracked() == 1); // still owes its rate until t0 + 100 ms
  CHECK(rated.try_start("x", t0 + 50ms) == start::aside);
}

TEST_CASE("key limits: a million distinct keys keep the table within the running ones",
          "[policy][keys]")
{
  key_limits k(cap_of(1), 4, 64);
  for (int i = 0; i < 1000000; ++i)
  {
    const auto key = std::to_string(i);
    REQUIRE(k.try_start(key, t0) == start::go);
    if (i % 3 == 2) // three in flight at most, then they end
      for (int j = i - 2; j <= i; ++j)
        k.finish(std::to_string(j), t0);
  }
  CHECK(k.peak() <= 3);
  CHECK(k.tracked() <= 3);
}

TEST_CASE("key limits: with max_keys keys owing their rate, a new key waits for the earliest",
          "[policy][keys]")
{
  key_limits k(cap_of(1, 10), 4, 3); // 100 ms apart per key, 3 keys at most
  for (int i = 0; i < 3; ++i)
  {
    const auto key = std::to_string(i);
    REQUIRE(k.try_start(key, t0 + std::chrono::milliseconds(i)) == start::go);
    k.finish(key, t0 + std::chrono::milliseconds(i));
  }
  CHECK(k.tracked() == 3);
  CHECK(k.try_start("new", t0 + 50ms) == start::wait);
  CHECK(k.retry_at() == t0 + 100ms); // key "0" is neutral then
  CHECK(k.try_start("new", t0 + 100ms) == start::go);
  CHECK(k.tracked() == 3); // "0" released, "new" in
  CHECK(k.peak() == 3);
}

TEST_CASE("key limits: a cancelled job releases every item set aside", "[policy][keys]")
{
  key_limits k(cap_of(1), 8, 100);
  CHECK(k.try_start("a", t0) == start::go);
  CHECK(k.try_start("b", t0) == start::go);
  for (std::size_t s = 0; s < 4; ++s)
  {
    const std::string key = s % 2 == 0 ? "a" : "b";
    REQUIRE(k.try_start(key, t0) == start::aside);
    k.set_aside(key, s);
  }
  auto all = k.release_all();
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(k.release_all().empty());
  // Each released item is taken and ends: the keys are released then.
  for (int i = 0; i < 2; ++i)
  {
    k.taken("a", t0);
    k.finish("a", t0);
    k.taken("b", t0);
    k.finish("b", t0);
  }
  k.finish("a", t0);
  k.finish("b", t0);
  CHECK(k.tracked() == 0);
}

TEST_CASE("key limits: no key function, or one that throws, gives the empty key", "[policy][keys]")
{
  using jobrunner::detail::policy::key_by_fn;
  std::function<std::string(const int&)> none;
  CHECK(key_by_fn(none, 1).empty());
  std::function<std::string(const int&)> host = [](const int& i) { return std::to_string(i); };
  CHECK(key_by_fn(host, 7) == "7");
  std::function<std::string(const int&)> throws = [](const int&) -> std::string {
    throw std::runtime_error("no key");
  };
  CHECK(key_by_fn(throws, 1).empty());
}
