// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The runner under the benchmark contract (benchmarks/README.md):
//   jobrunner_bench WORKLOAD [N] [W] [Q] [P] [L]
// JOBRUNNER_BENCH_POLICY=timeout|rate|retry|ordered|adaptive|budget|deadline switches
// one policy on at a setting that never binds (its cost, not its effect);
// =untimed switches JobConfig::measure_durations off (no clock read per item).
#include <jobrunner/jobrunner.hpp>

#include "bench_common.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;

namespace {

asio::awaitable<long> instant(long x)
{
  bench::task_started();
  co_return x * 2;
}

asio::awaitable<long> sleep_then_double(long x, long ms)
{
  bench::task_started();
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
  co_return x * 2;
}

asio::awaitable<long> cpu_task(long x)
{
  bench::task_started();
  co_return bench::cpu_work(x);
}

void set_policy(jobrunner::JobConfig& config)
{
  const char* p = std::getenv("JOBRUNNER_BENCH_POLICY");
  const std::string policy = p ? p : "";
  if (policy.empty())
    return;
  if (policy == "timeout")
    config.task_timeout = std::chrono::hours(1);
  else if (policy == "rate")
  {
    config.rate_limit.per_second = 1e9; // the most allowed
    config.rate_limit.burst = 1000000;
  }
  else if (policy == "retry")
    config.retry.max_attempts = 3;
  else if (policy == "ordered")
    config.ordered_delivery = true;
  else if (policy == "adaptive")
    config.adaptive_concurrency.enabled = true;
  else if (policy == "budget")
    config.failure_budget.max_failures = 1000000000;
  else if (policy == "untimed") // no policy, and no task durations measured
    config.measure_durations = false;
  else if (policy == "deadline") // issue 14: both deadlines, never reached
  {
    config.deadline.total = std::chrono::hours(1);
    config.deadline.queue_wait = std::chrono::hours(1);
  }
  else
  {
    std::fprintf(stderr, "unknown JOBRUNNER_BENCH_POLICY: %s\n", p);
    std::exit(2);
  }
}

template <class Threading, class Fn>
int run(const bench::options& o, Fn fn)
{
  asio::io_context io(static_cast<int>(o.threads));
  bench::mark_job_start();
  jobrunner::JobConfig config;
  config.workers = static_cast<std::size_t>(o.workers);
  config.work_queue_capacity = static_cast<std::size_t>(o.queue);
  config.result_queue_capacity = static_cast<std::size_t>(o.queue);
  set_policy(config);
  jobrunner::JobRunner<long, long, Threading> runner(io, std::move(fn), config);

  long sum = 0;
  long results = 0;
  for (long p = 0; p < o.producers; ++p)
  {
    long first = 0, last = 0;
    bench::slice(o, p, first, last);
    runner.add_range(bench::counting{first, last});
  }
  std::chrono::steady_clock::time_point end;
  runner
      .on_task_complete([&](auto& r) {
        ++results;
        if (r.ok())
          sum += *r.value;
      })
      .on_job_complete(
          [&](const jobrunner::JobSummary&) { end = std::chrono::steady_clock::now(); });

  auto start = std::chrono::steady_clock::now();
  runner.run(o.threads);
  bench::report("jobrunner", o, std::chrono::duration<double>(end - start).count(), sum, results);
  return 0;
}

// The task is chosen outside the runner, so that each workload's function is
// one coroutine, as in the hand-written pipelines.
template <class Threading>
int run(const bench::options& o)
{
  if (o.latency_ms > 0)
  {
    const long ms = o.latency_ms;
    return run<Threading>(o, [ms](long x) { return sleep_then_double(x, ms); });
  }
  if (o.workload == "cpu")
    return run<Threading>(o, [](long x) { return cpu_task(x); });
  return run<Threading>(o, [](long x) { return instant(x); });
}

} // namespace

int main(int argc, char** argv)
{
  auto o = bench::parse(argc, argv);
  return o.threads > 1 ? run<jobrunner::multi_threaded>(o) : run<jobrunner::single_threaded>(o);
}
