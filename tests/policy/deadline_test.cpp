// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The deadlines' decisions on a manual clock: no timer, no io_context.
#include <jobrunner/detail/policy/deadline.hpp>

#include "test_support.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::task_status;
namespace policy = jobrunner::detail::policy;
using clock_type = std::chrono::steady_clock;

namespace {

const clock_type::time_point t0 = clock_type::time_point(1000s);

} // namespace

TEST_CASE("deadline: fixed at the first take, none when total is zero", "[policy][deadline]")
{
  CHECK(policy::item_deadline(0ns, t0) == policy::no_deadline);
  CHECK(policy::item_deadline(2s, t0) == t0 + 2s);
  // No deadline: every start allowed, whatever the time.
  CHECK(policy::may_start(policy::no_deadline, t0 + 1000h));
}

TEST_CASE("deadline: an attempt may not start at or past the total deadline", "[policy][deadline]")
{
  const auto d = policy::item_deadline(1s, t0);
  CHECK(policy::may_start(d, t0));
  CHECK(policy::may_start(d, t0 + 999ms));
  CHECK_FALSE(policy::may_start(d, t0 + 1s));
  CHECK_FALSE(policy::may_start(d, t0 + 5s));
}

TEST_CASE("deadline: the attempt timeout is capped at the time left", "[policy][deadline]")
{
  const auto d = t0 + 1s;
  // No deadline: task_timeout as it is (0: none).
  CHECK(policy::attempt_timeout(300ms, policy::no_deadline, t0) == 300ms);
  CHECK(policy::attempt_timeout(0ns, policy::no_deadline, t0) == 0ns);
  // A timeout shorter than the time left is kept.
  CHECK(policy::attempt_timeout(300ms, d, t0) == 300ms);
  // A longer one, or none, is cut to the time left.
  CHECK(policy::attempt_timeout(5s, d, t0 + 600ms) == 400ms);
  CHECK(policy::attempt_timeout(0ns, d, t0 + 600ms) == 400ms);
  // Equal: either way the same.
  CHECK(policy::attempt_timeout(400ms, d, t0 + 600ms) == 400ms);
}

TEST_CASE("deadline: a timeout at or past the deadline was the deadline's cut",
          "[policy][deadline]")
{
  const auto d = t0 + 1s;
  CHECK(policy::expired_by_cut(task_status::timed_out, d, t0 + 1s));
  CHECK(policy::expired_by_cut(task_status::timed_out, d, t0 + 1200ms));
  // task_timeout fired first: a timeout, not an expiry.
  CHECK_FALSE(policy::expired_by_cut(task_status::timed_out, d, t0 + 300ms));
  // Only timeouts are cuts: a failure past the deadline keeps its status.
  CHECK_FALSE(policy::expired_by_cut(task_status::failed, d, t0 + 2s));
  CHECK_FALSE(policy::expired_by_cut(task_status::succeeded, d, t0 + 2s));
  CHECK_FALSE(policy::expired_by_cut(task_status::timed_out, policy::no_deadline, t0 + 2s));
}

TEST_CASE("deadline: a retry whose backoff would end past the deadline is not made",
          "[policy][deadline]")
{
  const auto d = t0 + 1s;
  const policy::decision retry{policy::next_step::retry_aside, 300ms};
  const policy::decision here{policy::next_step::retry_here, 300ms};
  // Ends before the deadline: made.
  CHECK_FALSE(policy::next_run_too_late(retry, d, t0 + 600ms, policy::no_deadline));
  CHECK_FALSE(policy::next_run_too_late(here, d, t0 + 600ms, policy::no_deadline));
  // Ends at or past it: not made.
  CHECK(policy::next_run_too_late(retry, d, t0 + 700ms, policy::no_deadline));
  CHECK(policy::next_run_too_late(here, d, t0 + 900ms, policy::no_deadline));
  // A final result is never "too late"; no deadline never is.
  CHECK_FALSE(policy::next_run_too_late(policy::decision{}, d, t0 + 5s, policy::no_deadline));
  CHECK_FALSE(policy::next_run_too_late(retry, policy::no_deadline, t0 + 5s, policy::no_deadline));
}

TEST_CASE("deadline: a push-back pause past the deadline expires the item", "[policy][deadline]")
{
  const auto d = t0 + 1s;
  const policy::decision again{policy::next_step::run_again, 0ns};
  CHECK_FALSE(policy::next_run_too_late(again, d, t0 + 100ms, t0 + 500ms));
  CHECK(policy::next_run_too_late(again, d, t0 + 100ms, t0 + 1s));
  CHECK(policy::next_run_too_late(again, d, t0 + 100ms, t0 + 3s));
  // A pause already over: the re-run is now, which the deadline decides.
  CHECK_FALSE(policy::next_run_too_late(again, d, t0 + 900ms, t0 + 100ms));
  CHECK(policy::next_run_too_late(again, d, t0 + 1s, t0 + 100ms));
}

TEST_CASE("deadline: a wait never outlasts the deadline", "[policy][deadline]")
{
  CHECK(policy::earlier(t0 + 5s, t0 + 1s) == t0 + 1s);
  CHECK(policy::earlier(t0 + 500ms, t0 + 1s) == t0 + 500ms);
  CHECK(policy::earlier(t0 + 5s, policy::no_deadline) == t0 + 5s);
}

TEST_CASE("deadline: queue wait, from submission to the take", "[policy][deadline][queue]")
{
  CHECK_FALSE(policy::waited_too_long(100ms, t0, t0 + 100ms));
  CHECK(policy::waited_too_long(100ms, t0, t0 + 101ms));
  // Off, or no submission time: never.
  CHECK_FALSE(policy::waited_too_long(0ns, t0, t0 + 1h));
  CHECK_FALSE(policy::waited_too_long(100ms, clock_type::time_point{}, t0 + 1h));
}

TEST_CASE("deadline: JobConfig rejects negative or huge deadlines", "[policy][deadline][config]")
{
  JobConfig c;
  c.validate();
  c.deadline.total = -1ns;
  CHECK_THROWS_AS(c.validate(), std::invalid_argument);
  c.deadline.total = std::chrono::hours(24 * 365 * 101);
  CHECK_THROWS_AS(c.validate(), std::invalid_argument);
  c.deadline.total = 5s;
  c.validate();
  c.deadline.queue_wait = -1ms;
  try
  {
    c.validate();
    FAIL("a negative queue_wait was accepted");
  }
  catch (const std::invalid_argument& e)
  {
    CHECK(std::string(e.what()).find("deadline.queue_wait") != std::string::npos);
  }
  c.deadline.queue_wait = 1ms;
  c.validate();
}
