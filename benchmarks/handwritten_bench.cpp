// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Hand-written Asio pipelines of the runner's shape (P producers, a bounded
// work channel, W workers, a bounded result channel, one result handler),
// under the benchmark contract (benchmarks/README.md). Built twice:
//   handwritten_await_bench  awaits every channel operation;
//   handwritten_fast_bench   tries try_send / try_receive first (JOBRUNNER_BENCH_FAST=1).
// End of input travels in band (eof markers), as Asio 1.81's close() drops items.
#include "bench_common.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#ifndef JOBRUNNER_BENCH_FAST
#define JOBRUNNER_BENCH_FAST 0
#endif

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace {

constexpr bool fast = JOBRUNNER_BENCH_FAST != 0;

asio::awaitable<long> instant(long x)
{
  co_return x * 2;
}

template <class Channel>
asio::awaitable<void> send(Channel& ch, error_code ec, long v)
{
  if (fast && ch.try_send(ec, v))
    co_return;
  co_await ch.async_send(ec, v, asio::deferred);
}

template <class Channel>
int run(const bench::options& o)
{
  asio::io_context io(static_cast<int>(o.threads));
  bench::mark_job_start();
  auto ex = [&]() -> asio::any_io_executor {
    if (o.threads > 1)
      return asio::make_strand(io);
    return io.get_executor();
  };
  Channel work(io, static_cast<std::size_t>(o.queue));
  Channel results(io, static_cast<std::size_t>(o.queue));
  std::atomic<long> producers_left{o.producers};
  std::atomic<long> workers_left{o.workers};
  long sum = 0, count = 0;
  std::chrono::steady_clock::time_point end;
  const bool cpu = o.workload == "cpu";

  for (long p = 0; p < o.producers; ++p)
  {
    long first = 0, last = 0;
    bench::slice(o, p, first, last);
    asio::co_spawn(
        ex(),
        [&, first, last]() -> asio::awaitable<void> {
          for (long i = first; i < last; ++i)
          {
            if constexpr (fast)
            {
              if (work.try_send(error_code{}, i))
                continue;
            }
            co_await work.async_send(error_code{}, i, asio::deferred);
          }
          if (producers_left.fetch_sub(1) == 1)
            for (long w = 0; w < o.workers; ++w)
              co_await send(work, asio::error::eof, 0);
        },
        asio::detached);
  }
  for (long w = 0; w < o.workers; ++w)
    asio::co_spawn(
        ex(),
        [&]() -> asio::awaitable<void> {
          for (;;)
          {
            error_code ec;
            long x = 0;
            if constexpr (fast)
            {
              if (!work.try_receive([&](error_code e, long v) {
                    ec = e;
                    x = v;
                  }))
                std::tie(ec, x) = co_await work.async_receive(asio::as_tuple(asio::deferred));
            }
            else
              std::tie(ec, x) = co_await work.async_receive(asio::as_tuple(asio::deferred));
            if (ec)
              break;
            long r = 0;
            bench::task_started();
            if (o.latency_ms > 0)
            {
              asio::steady_timer t(co_await asio::this_coro::executor,
                                   std::chrono::milliseconds(o.latency_ms));
              co_await t.async_wait(asio::use_awaitable);
              r = x * 2;
            }
            else if (cpu)
              r = bench::cpu_work(x);
            else
              r = co_await instant(x);
            if constexpr (fast)
            {
              if (results.try_send(error_code{}, r))
                continue;
            }
            co_await results.async_send(error_code{}, r, asio::deferred);
          }
          if (workers_left.fetch_sub(1) == 1)
            co_await send(results, asio::error::eof, 0);
        },
        asio::detached);
  asio::co_spawn(
      ex(),
      [&]() -> asio::awaitable<void> {
        for (;;)
        {
          // Inline, not through receive(): a helper coroutine per item would
          // cost the baseline a frame the runner does not pay.
          error_code ec;
          long r = 0;
          if constexpr (fast)
          {
            if (!results.try_receive([&](error_code e, long v) {
                  ec = e;
                  r = v;
                }))
              std::tie(ec, r) = co_await results.async_receive(asio::as_tuple(asio::deferred));
          }
          else
            std::tie(ec, r) = co_await results.async_receive(asio::as_tuple(asio::deferred));
          if (ec)
            break;
          sum += r;
          ++count;
        }
        end = std::chrono::steady_clock::now();
      },
      asio::detached);

  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < o.threads; ++t)
    pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool)
    t.join();
  bench::report(fast ? "handwritten_fast" : "handwritten_await", o,
                std::chrono::duration<double>(end - start).count(), sum, count);
  return 0;
}

} // namespace

int main(int argc, char** argv)
{
  auto o = bench::parse(argc, argv);
  if (o.threads > 1)
    return run<asio::experimental::concurrent_channel<void(error_code, long)>>(o);
  return run<asio::experimental::channel<void(error_code, long)>>(o);
}
