// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Seeded random scenarios that look for a lost or doubled result instead of
// confirming a happy path: random workers, capacities, producers, task
// latencies, throws from tasks, producers and callbacks, cancellation at a
// random moment, 1 to 4 threads. After each scenario: every submitted item got
// exactly one task-complete call, job-complete ran once and last, the
// summary's counts equal the callbacks', and the io_context ran out of work.
//
// JOBRUNNER_STRESS_SCENARIOS (default 200) and JOBRUNNER_STRESS_SEED (default
// 1) choose the run; a failure prints the scenario's seed to replay it.
#include <jobrunner/jobrunner.hpp>

#include "test_support.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

struct scenario
{
  std::uint64_t seed = 0;
  unsigned threads = 1;
  bool multi = false;
  jobrunner::JobConfig config;
  int producers = 1;
  long items_per_producer = 0;
  int producer_throw_at = -1; // index at which producer 0 throws, or -1
  std::uint64_t keys = 0;     // per-key limits: items keyed by item % keys
  unsigned task_throw_permille = 0;
  unsigned callback_throw_permille = 0;
  int latency_kind = 0; // 0 none, 1 post, 2 short timers
  bool sync_task = false;
  int cancel_kind = 0; // 0 none, 1 from another thread, 2 from a callback
  std::chrono::microseconds cancel_after{0};
  long cancel_at_result = 0;
  bool budget = false;
  unsigned pushback_permille = 0;

  std::string describe() const
  {
    return "seed=" + std::to_string(seed) + " threads=" + std::to_string(threads)
           + " multi=" + std::to_string(multi) + " W=" + std::to_string(config.workers)
           + " Qw=" + std::to_string(config.work_queue_capacity)
           + " Qr=" + std::to_string(config.result_queue_capacity)
           + " P=" + std::to_string(producers) + " items/P=" + std::to_string(items_per_producer)
           + " latency=" + std::to_string(latency_kind) + " sync=" + std::to_string(sync_task)
           + " cancel=" + std::to_string(cancel_kind)
           + " timeout_us=" + std::to_string(config.task_timeout.count() / 1000)
           + " rate=" + std::to_string(config.rate_limit.per_second)
           + " budget=" + std::to_string(config.failure_budget.max_failures) + "/"
           + std::to_string(config.failure_budget.max_failure_ratio)
           + " attempts=" + std::to_string(config.retry.max_attempts) + "/"
           + std::to_string(config.retry.max_waiting) + " ordered="
           + std::to_string(config.ordered_delivery) + "/" + std::to_string(config.reorder_window)
           + " adaptive=" + std::to_string(config.adaptive_concurrency.enabled) + "/"
           + std::to_string(config.adaptive_concurrency.min_workers) + "/"
           + std::to_string(config.adaptive_concurrency.initial_workers)
           + (config.adaptive_concurrency.algorithm
                      == jobrunner::JobConfig::AdaptiveConcurrency::algorithm_kind::gradient
                  ? "/gradient"
                  : "")
           + " breaker=" + std::to_string(config.circuit_breaker.enabled) + "/"
           + std::to_string(config.circuit_breaker.failure_rate) + "/"
           + std::to_string(config.circuit_breaker.consecutive_failures) + "/"
           + std::to_string(config.circuit_breaker.give_up_after.count() / 1000)
           + " budget=" + std::to_string(config.retry_budget.enabled) + "/"
           + std::to_string(config.retry_budget.ratio) + "/"
           + std::to_string(config.retry_budget.min_per_second)
           + " deadline_us=" + std::to_string(config.deadline.total.count() / 1000) + "/"
           + std::to_string(config.deadline.queue_wait.count() / 1000)
           + " per_key=" + std::to_string(config.per_key.enabled) + "/" + std::to_string(keys) + "/"
           + std::to_string(config.per_key.max_in_flight) + "/"
           + std::to_string(config.per_key.per_second) + "/"
           + std::to_string(config.per_key.max_waiting);
  }
};

scenario make_scenario(std::uint64_t seed)
{
  std::mt19937_64 rng(seed);
  auto pick = [&](std::uint64_t n) { return rng() % n; };
  scenario s;
  s.seed = seed;
  s.threads = static_cast<unsigned>(1 + pick(4));
  s.multi = s.threads > 1 || pick(4) == 0;
  s.config.workers = pick(4) == 0 ? 1 + pick(1000) : 1 + pick(64);
  s.config.work_queue_capacity = pick(3) == 0 ? pick(1001) : pick(16);
  s.config.result_queue_capacity = pick(3) == 0 ? pick(1001) : pick(16);
  s.producers = static_cast<int>(1 + pick(16));
  s.items_per_producer = static_cast<long>(pick(400));
  s.producer_throw_at = pick(5) == 0 ? static_cast<int>(pick(400)) : -1;
  s.task_throw_permille = pick(3) == 0 ? static_cast<unsigned>(pick(100)) : 0;
  s.callback_throw_permille = pick(4) == 0 ? static_cast<unsigned>(pick(50)) : 0;
  s.latency_kind = static_cast<int>(pick(3));
  s.sync_task = pick(4) == 0;
  s.cancel_kind = pick(3) == 0 ? static_cast<int>(1 + pick(2)) : 0;
  s.cancel_after = std::chrono::microseconds(pick(5000));
  s.cancel_at_result = static_cast<long>(pick(500));
  if (pick(4) == 0)
    s.config.task_timeout = std::chrono::microseconds(50 + pick(400));
  if (pick(6) == 0)
  {
    s.pushback_permille = static_cast<unsigned>(1 + pick(30));
    s.config.max_pushbacks = pick(4);
  }
  if (pick(6) == 0)
  {
    s.config.rate_limit.per_second = static_cast<double>(20000 + pick(80000));
    s.config.rate_limit.burst = 1 + pick(50);
  }
  if (pick(5) == 0)
  {
    s.budget = true;
    if (pick(2) == 0)
      s.config.failure_budget.max_failures = 1 + pick(50);
    else
    {
      s.config.failure_budget.max_failure_ratio = static_cast<double>(pick(50)) / 100.0;
      s.config.failure_budget.min_results = pick(100);
    }
  }
  if (pick(4) == 0)
  {
    s.config.retry.max_attempts = 2 + pick(3);
    s.config.retry.initial_backoff = std::chrono::microseconds(pick(300));
    s.config.retry.max_backoff = s.config.retry.initial_backoff * 4;
    s.config.retry.max_waiting = pick(3) == 0 ? 1 + pick(4) : 0;
  }
  if (pick(5) == 0)
  {
    s.config.ordered_delivery = true;
    s.config.reorder_window = pick(2) == 0 ? 0 : 1 + pick(20);
  }
  if (pick(5) == 0)
  {
    auto& a = s.config.adaptive_concurrency;
    a.enabled = true;
    a.min_workers = 1 + pick(s.config.workers);
    a.initial_workers =
        pick(2) == 0 ? 0 : a.min_workers + pick(s.config.workers - a.min_workers + 1);
  }
  // Issue 14's policies draw last, so the earlier draws of a seed stay as they were.
  if (pick(5) == 0) // circuit breaker
  {
    auto& b = s.config.circuit_breaker;
    b.enabled = true;
    b.window = 1 + pick(30);
    b.min_calls = pick(20);
    b.failure_rate = pick(3) == 0 ? 0 : static_cast<double>(1 + pick(100)) / 100.0;
    b.consecutive_failures = b.failure_rate == 0 || pick(2) == 0 ? 1 + pick(5) : 0;
    b.open_time = std::chrono::microseconds(1 + pick(500));
    b.open_time_multiplier = 1 + static_cast<double>(pick(3));
    b.max_open_time = b.open_time * (1 + pick(8));
    b.probes = 1 + pick(4);
    b.half_open_time = std::chrono::microseconds(100 + pick(2000));
    b.give_up_after =
        pick(2) == 0 ? std::chrono::microseconds(0) : std::chrono::microseconds(200 + pick(5000));
  }
  if (pick(4) == 0) // retry budget
  {
    auto& b = s.config.retry_budget;
    b.enabled = true;
    b.ratio = static_cast<double>(pick(50)) / 100.0;
    b.min_per_second = static_cast<double>(pick(3) == 0 ? 0 : pick(2000));
    b.window = std::chrono::microseconds(100 + pick(100000));
  }
  if (s.config.adaptive_concurrency.enabled && pick(2) == 0) // the gradient limit (issue 14)
  {
    auto& a = s.config.adaptive_concurrency;
    a.algorithm = jobrunner::JobConfig::AdaptiveConcurrency::algorithm_kind::gradient;
    a.smoothing = static_cast<double>(1 + pick(100)) / 100.0;
    a.tolerance = 1 + static_cast<double>(pick(100)) / 100.0;
    a.queue_allowance = static_cast<double>(std::min<std::size_t>(pick(3), s.config.workers));
    a.short_window = 1 + pick(20);
    a.long_window = a.short_window + 1 + pick(1000);
  }
  if (pick(4) == 0) // deadlines (issue 14): around the tasks' timers and backoffs
  {
    auto& d = s.config.deadline;
    if (pick(2) == 0)
      d.total = std::chrono::microseconds(50 + pick(3000));
    if (pick(2) == 0)
      d.queue_wait = std::chrono::microseconds(20 + pick(2000));
  }
  if (!s.config.ordered_delivery && pick(4) == 0) // per-key limits (issue 14)
  {
    auto& k = s.config.per_key;
    k.enabled = true;
    s.keys = 1 + pick(20);
    k.max_in_flight = pick(4);
    if (pick(2) == 0)
    {
      k.per_second = static_cast<double>(2000 + pick(100000));
      k.burst = 1 + pick(8);
    }
    if (k.max_in_flight == 0 && k.per_second == 0)
      k.max_in_flight = 1;
    k.max_waiting = pick(2) == 0 ? 0 : 1 + pick(10);
  }
  s.config.measure_durations = pick(4) != 0; // issue 15: no clock per item in a quarter
  return s;
}

std::uint64_t mix(std::uint64_t x)
{
  x ^= x >> 31;
  x *= 0x9e3779b97f4a7c15ULL;
  return x ^ (x >> 29);
}

template <class Threading>
void run_scenario(const scenario& sc)
{
  using runner_type = jobrunner::JobRunner<long, long, Threading>;
  INFO(sc.describe());
  asio::io_context io(static_cast<int>(sc.threads));

  const unsigned task_throw = sc.task_throw_permille;
  const int latency = sc.latency_kind;
  const std::uint64_t seed = sc.seed;
  auto throws = [task_throw, seed](long x) {
    return task_throw != 0 && mix(seed ^ static_cast<std::uint64_t>(x)) % 1000 < task_throw;
  };
  // Server push-back at random (a shared draw counter: attempts differ).
  auto draws = std::make_shared<std::atomic<std::uint64_t>>(0);
  const unsigned pushback = sc.pushback_permille;
  auto push_back = [pushback, seed, draws] {
    return pushback != 0 && mix(seed ^ (draws->fetch_add(1) * 0x51ed27ULL)) % 1000 < pushback;
  };

  std::unique_ptr<runner_type> runner;
  if (sc.sync_task)
    runner = std::make_unique<runner_type>(
        io,
        [throws, push_back](long x) -> long {
          if (push_back())
            throw jobrunner::retry_after(std::chrono::microseconds(x % 200));
          if (throws(x))
            throw std::runtime_error("task");
          return x;
        },
        sc.config);
  else
    runner = std::make_unique<runner_type>(
        io,
        [throws, latency, push_back](long x) -> asio::awaitable<long> {
          if (latency == 1 && x % 2 == 0)
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
          if (latency == 2 && x % 5 == 0)
          {
            asio::steady_timer t(co_await asio::this_coro::executor,
                                 std::chrono::microseconds(x % 300));
            co_await t.async_wait(asio::use_awaitable);
          }
          if (push_back())
            throw jobrunner::retry_after(std::chrono::microseconds(x % 200));
          if (throws(x))
            throw std::runtime_error("task");
          co_return x;
        },
        sc.config);

  if (sc.keys != 0) // per-key limits (issue 14)
    runner->key_by(
        [k = sc.keys](long x) { return std::to_string(static_cast<std::uint64_t>(x) % k); });

  // Each producer records what it submitted successfully (its own vector,
  // touched only by that producer; read after the job).
  std::vector<std::vector<long>> submitted(static_cast<std::size_t>(sc.producers));
  for (int p = 0; p < sc.producers; ++p)
  {
    runner->add_producer([&, p](auto& out) -> asio::awaitable<void> {
      auto& mine = submitted[static_cast<std::size_t>(p)];
      for (long i = 0; i < sc.items_per_producer; ++i)
      {
        if (p == 0 && i == sc.producer_throw_at)
          throw std::logic_error("producer");
        long id = p * 1000000L + i;
        if (i % 3 == 0)
          co_await out.submit(id);
        else if (!out.try_submit(id))
          co_await out.submit(id);
        mine.push_back(id);
      }
    });
  }

  std::mutex seen_mutex; // the callback runs on one coroutine; the mutex only satisfies TSan
  std::vector<std::vector<int>> calls(
      static_cast<std::size_t>(sc.producers),
      std::vector<int>(static_cast<std::size_t>(sc.items_per_producer), 0));
  std::atomic<int> inside{0};
  bool overlapped = false;
  bool out_of_order = false;
  bool too_many_attempts = false;
  bool timed_untimed = false; // a duration with measure_durations off
  long results = 0, succeeded = 0, failed = 0, cancelled = 0, timed_out = 0, callback_throws = 0;
  long unavailable = 0;
  long expired = 0, expired_in_queue = 0; // deadlines (issue 14)
  int job_calls = 0;
  long results_at_job = -1;
  runner_type* self = runner.get();
  runner->on_task_complete([&](auto& r) {
    if (inside.fetch_add(1) != 0)
      overlapped = true;
    std::lock_guard lock(seen_mutex);
    auto p = static_cast<std::size_t>(r.item / 1000000L);
    auto i = static_cast<std::size_t>(r.item % 1000000L);
    ++calls[p][i];
    if (sc.config.ordered_delivery && r.sequence != static_cast<std::uint64_t>(results))
      out_of_order = true;
    if (r.attempts > sc.config.retry.max_attempts + sc.config.max_pushbacks)
      too_many_attempts = true;
    if (!sc.config.timed_tasks() && r.duration != std::chrono::nanoseconds{0})
      timed_untimed = true;
    ++results;
    switch (r.status)
    {
    case jobrunner::task_status::succeeded:
      ++succeeded;
      break;
    case jobrunner::task_status::failed:
      ++failed;
      break;
    case jobrunner::task_status::cancelled:
      ++cancelled;
      break;
    case jobrunner::task_status::timed_out:
      ++timed_out;
      break;
    case jobrunner::task_status::unavailable:
      ++unavailable;
      break;
    case jobrunner::task_status::expired:
      ++expired;
      break;
    case jobrunner::task_status::expired_in_queue:
      ++expired_in_queue;
      break;
    }
    if (sc.cancel_kind == 2 && results == sc.cancel_at_result)
      self->cancel();
    inside.fetch_sub(1);
    if (sc.callback_throw_permille != 0
        && mix(sc.seed ^ static_cast<std::uint64_t>(r.item) ^ 0xabcdefULL) % 1000
               < sc.callback_throw_permille)
    {
      ++callback_throws;
      throw std::runtime_error("callback");
    }
  });
  runner->on_job_complete([&](const jobrunner::JobSummary&) {
    ++job_calls;
    results_at_job = results;
  });

  std::thread canceller;
  if (sc.cancel_kind == 1)
    canceller = std::thread([&] {
      std::this_thread::sleep_for(sc.cancel_after);
      runner->cancel();
    });

  bool handler_ran = false;
  boost::system::error_code ec;
  jobrunner::JobSummary summary;
  runner->async_run([&](boost::system::error_code e, jobrunner::JobSummary s) {
    handler_ran = true;
    ec = e;
    summary = std::move(s);
  });
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < sc.threads; ++t)
    pool.emplace_back([&] { io.run_for(60s); });
  io.run_for(60s);
  for (auto& t : pool)
    t.join();
  if (canceller.joinable())
    canceller.join();

  REQUIRE(io.stopped()); // nothing left behind
  REQUIRE(handler_ran);
  CHECK_FALSE(overlapped);
  CHECK_FALSE(out_of_order);
  CHECK_FALSE(too_many_attempts);
  CHECK_FALSE(timed_untimed);
  CHECK(job_calls == 1);
  CHECK(results_at_job == results);
  std::uint64_t submitted_total = 0;
  for (std::size_t p = 0; p < submitted.size(); ++p)
  {
    for (long id : submitted[p])
      REQUIRE(calls[p][static_cast<std::size_t>(id % 1000000L)] == 1);
    submitted_total += submitted[p].size();
  }
  long total_calls = 0;
  for (auto& per_producer : calls)
    for (int c : per_producer)
    {
      REQUIRE(c <= 1);
      total_calls += c;
    }
  CHECK(static_cast<std::uint64_t>(total_calls) == submitted_total);
  CHECK(summary.submitted == submitted_total);
  CHECK(summary.succeeded == static_cast<std::uint64_t>(succeeded));
  CHECK(summary.failed == static_cast<std::uint64_t>(failed));
  CHECK(summary.cancelled == static_cast<std::uint64_t>(cancelled));
  CHECK(summary.timed_out == static_cast<std::uint64_t>(timed_out));
  CHECK(summary.unavailable == static_cast<std::uint64_t>(unavailable));
  CHECK(summary.expired == static_cast<std::uint64_t>(expired));
  CHECK(summary.expired_in_queue == static_cast<std::uint64_t>(expired_in_queue));
  if (sc.config.deadline.total.count() == 0)
    CHECK(expired == 0);
  if (sc.config.deadline.queue_wait.count() == 0)
    CHECK(expired_in_queue == 0);
  if (!sc.config.retry_budget.enabled || sc.config.retry.max_attempts == 1)
    CHECK(summary.retries_refused == 0);
  if (!sc.config.circuit_breaker.enabled || sc.config.circuit_breaker.give_up_after.count() == 0)
    CHECK(unavailable == 0);
  if (sc.pushback_permille == 0 && sc.config.retry.max_attempts == 1)
    CHECK(summary.retried == 0);
  if (sc.config.task_timeout.count() == 0 || sc.sync_task)
    CHECK(timed_out == 0);
  CHECK(summary.callback_errors == static_cast<std::uint64_t>(callback_throws));
  CHECK(summary.producer_errors <= 1);
  if (summary.status == jobrunner::job_status::completed)
  {
    CHECK_FALSE(ec);
    CHECK(summary.cancelled == 0);
  }
  else if (summary.status == jobrunner::job_status::unavailable)
  {
    CHECK(sc.config.circuit_breaker.enabled);
    CHECK(ec == jobrunner::errc::service_unavailable);
    CHECK(summary.breaker_opened >= 1);
    CHECK(summary.cancelled == 0); // what the give-up stopped is unavailable
  }
  else if (summary.status == jobrunner::job_status::aborted)
  {
    CHECK(sc.budget);
    CHECK(ec == jobrunner::errc::failure_budget_exceeded);
    CHECK(summary.failed + summary.timed_out >= 1);
  }
  else
    CHECK(ec == asio::error::operation_aborted);
}

std::uint64_t env_or(const char* name, std::uint64_t fallback)
{
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

} // namespace

TEST_CASE("random scenarios keep every invariant", "[stress]")
{
  const auto count = env_or("JOBRUNNER_STRESS_SCENARIOS", 200);
  const auto first = env_or("JOBRUNNER_STRESS_SEED", 1);
  for (std::uint64_t seed = first; seed < first + count; ++seed)
  {
    auto sc = make_scenario(seed);
    if (sc.multi)
      run_scenario<jobrunner::multi_threaded>(sc);
    else
      run_scenario<jobrunner::single_threaded>(sc);
  }
  SUCCEED("scenarios run: " << count);
}
