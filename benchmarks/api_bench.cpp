// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Issue 13's paths against the callback path, per item, same process, same
// rounds: a JobRunner with a task-complete callback; the same job with its
// results pulled by a coroutine (JobRunner::results); async_map (results kept,
// in input order); async_for_each (nothing kept); and items added through an
// open input (Input::try_add, async_add when full) instead of add_range.
//   api_bench [N] [ROUNDS] [W]
// Prints one JSON line per path and round, then the medians and the median
// of each round's ratio to the callback path (the machine may be shared: the
// same-round ratio is the figure to read).
#include <jobrunner/jobrunner.hpp>

#include "bench_common.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

asio::awaitable<long> instant(long x)
{
  co_return x * 2;
}

jobrunner::JobConfig config_for(long workers)
{
  jobrunner::JobConfig c;
  c.workers = static_cast<std::size_t>(workers);
  return c;
}

double callback_path(long n, long w, long& sum)
{
  asio::io_context io(1);
  jobrunner::JobRunner<long, long> runner(io, instant, config_for(w));
  runner.add_range(bench::counting{0, n});
  runner.on_task_complete([&](auto& r) { sum += *r.value; });
  const auto t0 = clock_type::now();
  runner.run();
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double pull_path(long n, long w, long& sum)
{
  asio::io_context io(1);
  jobrunner::JobRunner<long, long> runner(io, instant, config_for(w));
  runner.add_range(bench::counting{0, n});
  auto results = runner.results();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (auto r = co_await results.async_next(asio::deferred))
          sum += *r->value;
      },
      [](std::exception_ptr e) {
        if (e)
          std::rethrow_exception(e);
      });
  const auto t0 = clock_type::now();
  runner.run();
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double map_path(long n, long w, long& sum)
{
  asio::io_context io(1);
  const auto t0 = clock_type::now();
  auto results = jobrunner::map(io, bench::counting{0, n}, instant, config_for(w));
  for (auto& r : results)
    sum += *r.value;
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double for_each_path(long n, long w, long& sum)
{
  asio::io_context io(1);
  const auto t0 = clock_type::now();
  auto s = jobrunner::for_each(io, bench::counting{0, n}, instant, config_for(w));
  sum += static_cast<long>(s.succeeded);
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double input_path(long n, long w, long& sum)
{
  asio::io_context io(1);
  jobrunner::JobRunner<long, long> runner(io, instant, config_for(w));
  auto input = runner.open_input();
  runner.on_task_complete([&](auto& r) { sum += *r.value; });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (long i = 0; i < n; ++i)
        {
          long item = i;
          if (!input.try_add(item))
            co_await input.async_add(item, asio::deferred);
        }
        input.close();
      },
      [](std::exception_ptr e) {
        if (e)
          std::rethrow_exception(e);
      });
  const auto t0 = clock_type::now();
  runner.run();
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const long w = argc > 3 ? std::atol(argv[3]) : 50;
  using path_fn = double (*)(long, long, long&);
  const std::vector<std::pair<std::string, path_fn>> paths{{"callback", callback_path},
                                                           {"pull", pull_path},
                                                           {"map", map_path},
                                                           {"for_each", for_each_path},
                                                           {"input", input_path}};
  std::map<std::string, std::vector<double>> ns, ratio;
  for (int round = 0; round < rounds; ++round)
  {
    double callback_ns = 0;
    for (auto& [name, fn] : paths)
    {
      long sum = 0;
      const double per_item = fn(n, w, sum) * 1e9 / static_cast<double>(n);
      const long expected = name == "for_each" ? n : n * (n - 1);
      if (sum != expected)
      {
        std::fprintf(stderr, "%s: wrong sum %ld\n", name.c_str(), sum);
        return 1;
      }
      if (name == "callback")
        callback_ns = per_item;
      ns[name].push_back(per_item);
      ratio[name].push_back(per_item / callback_ns);
      std::printf("{\"round\": %d, \"path\": \"%s\", \"n\": %ld, \"workers\": %ld, "
                  "\"ns_per_item\": %.1f}\n",
                  round, name.c_str(), n, w, per_item);
    }
  }
  for (auto& [name, fn] : paths)
    std::printf("%-9s median %.1f ns/item, median same-round ratio to callback %.2f\n",
                name.c_str(), median(ns[name]), median(ratio[name]));
}
