// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
//
// Per-item overhead of the runner against two pipelines written by hand with
// the same shape (1 producer, W workers, a result channel, one result handler
// summing the results), run side by side in rounds of rotating order.
//
//   overhead_bench [N=1000000] [W=50] [Q=100] [ROUNDS=7] [ONLY]
//
// The task is an awaitable returning x*2 without suspending. Prints one line
// per run, then the median ns/item of each implementation and the median of
// the per-round ratios to the runner.
#include <jobrunner/jobrunner.hpp>

#include <boost/asio/detached.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using channel = asio::experimental::channel<void(error_code, long)>;

namespace {

asio::awaitable<long> task(long x)
{
  co_return x * 2;
}

struct params
{
  long n = 1'000'000;
  std::size_t workers = 50;
  std::size_t queue = 100;
};

// Awaits every channel operation.
long run_await_all(const params& p)
{
  asio::io_context io(1);
  channel work(io, p.queue), results(io, p.queue);
  long sum = 0;
  std::size_t workers_left = p.workers;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (long i = 0; i < p.n; ++i)
          co_await work.async_send(error_code{}, i, asio::deferred);
        for (std::size_t w = 0; w < p.workers; ++w)
          co_await work.async_send(asio::error::eof, 0L, asio::deferred);
      },
      asio::detached);
  for (std::size_t w = 0; w < p.workers; ++w)
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (;;)
          {
            auto [ec, x] = co_await work.async_receive(asio::as_tuple(asio::deferred));
            if (ec)
              break;
            long r = co_await task(x);
            co_await results.async_send(error_code{}, r, asio::deferred);
          }
          if (--workers_left == 0)
            co_await results.async_send(asio::error::eof, 0L, asio::deferred);
        },
        asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;)
        {
          auto [ec, r] = co_await results.async_receive(asio::as_tuple(asio::deferred));
          if (ec)
            break;
          sum += r;
        }
      },
      asio::detached);
  io.run();
  return sum;
}

// Tries try_send / try_receive first and awaits only when full or empty.
long run_fast_path(const params& p)
{
  asio::io_context io(1);
  channel work(io, p.queue), results(io, p.queue);
  long sum = 0;
  std::size_t workers_left = p.workers;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (long i = 0; i < p.n; ++i)
          if (!work.try_send(error_code{}, i))
            co_await work.async_send(error_code{}, i, asio::deferred);
        for (std::size_t w = 0; w < p.workers; ++w)
          if (!work.try_send(asio::error::eof, 0L))
            co_await work.async_send(asio::error::eof, 0L, asio::deferred);
      },
      asio::detached);
  for (std::size_t w = 0; w < p.workers; ++w)
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (;;)
          {
            error_code ec;
            long x = 0;
            if (!work.try_receive([&](error_code e, long v) {
                  ec = e;
                  x = v;
                }))
              std::tie(ec, x) = co_await work.async_receive(asio::as_tuple(asio::deferred));
            if (ec)
              break;
            long r = co_await task(x);
            if (!results.try_send(error_code{}, r))
              co_await results.async_send(error_code{}, r, asio::deferred);
          }
          if (--workers_left == 0)
            co_await results.async_send(asio::error::eof, 0L, asio::deferred);
        },
        asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;)
        {
          error_code ec;
          long r = 0;
          if (!results.try_receive([&](error_code e, long v) {
                ec = e;
                r = v;
              }))
            std::tie(ec, r) = co_await results.async_receive(asio::as_tuple(asio::deferred));
          if (ec)
            break;
          sum += r;
        }
      },
      asio::detached);
  io.run();
  return sum;
}

// 0..n-1, computed on the fly (std::views::iota does not compile with clang 14).
struct counting
{
  long first, last;
  struct iterator
  {
    long v;
    long operator*() const { return v; }
    iterator& operator++()
    {
      ++v;
      return *this;
    }
    bool operator==(const iterator&) const = default;
  };
  iterator begin() const { return {first}; }
  iterator end() const { return {last}; }
};

// The runner in its default configuration (workers and capacities from params).
long run_runner(const params& p)
{
  asio::io_context io(1);
  jobrunner::JobConfig config;
  config.workers = p.workers;
  config.work_queue_capacity = p.queue;
  config.result_queue_capacity = p.queue;
  jobrunner::JobRunner<long, long> runner(
      io, [](long x) { return task(x); }, config);
  long sum = 0;
  runner.add_range(counting{0, p.n}).on_task_complete([&](auto& r) { sum += *r.value; });
  runner.run();
  return sum;
}

double median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
  params p;
  int rounds = 7;
  if (argc > 1)
    p.n = std::atol(argv[1]);
  if (argc > 2)
    p.workers = static_cast<std::size_t>(std::atol(argv[2]));
  if (argc > 3)
    p.queue = static_cast<std::size_t>(std::atol(argv[3]));
  if (argc > 4)
    rounds = std::atoi(argv[4]);
  const std::string only = argc > 5 ? argv[5] : ""; // profile one implementation

  struct impl
  {
    const char* name;
    std::function<long(const params&)> run;
    std::vector<double> ns;
    std::vector<double> ratio;
  };
  std::vector<impl> impls{{"await_all", run_await_all, {}, {}},
                          {"fast_path", run_fast_path, {}, {}},
                          {"runner", run_runner, {}, {}}};
  const long expected = p.n * (p.n - 1);
  bool ok = true;
  for (int round = 0; round < rounds; ++round)
  {
    std::vector<double> this_round(impls.size());
    for (std::size_t k = 0; k < impls.size(); ++k)
    {
      auto i = (k + static_cast<std::size_t>(round)) % impls.size();
      if (!only.empty() && only != impls[i].name)
      {
        this_round[i] = 1;
        continue;
      }
      auto t0 = std::chrono::steady_clock::now();
      long sum = impls[i].run(p);
      auto t1 = std::chrono::steady_clock::now();
      double ns =
          std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(p.n);
      this_round[i] = ns;
      impls[i].ns.push_back(ns);
      ok = ok && sum == expected;
      std::printf("round %d %-10s %7.1f ns/item sum %s\n", round, impls[i].name, ns,
                  sum == expected ? "ok" : "WRONG");
    }
    for (std::size_t i = 0; i < impls.size(); ++i)
      impls[i].ratio.push_back(this_round[i] / this_round[2]);
  }
  std::printf("\nN=%ld W=%zu Q=%zu rounds=%d\n%-10s %12s %22s\n", p.n, p.workers, p.queue, rounds,
              "impl", "median ns", "median ratio to runner");
  for (auto& i : impls)
    if (!i.ns.empty())
      std::printf("%-10s %12.1f %22.3f\n", i.name, median(i.ns), median(i.ratio));
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
