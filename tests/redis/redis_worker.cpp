// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// A process of the distributed test (tests/redis/redis_e2e.py):
//   redis_worker PORT submit N            writes items 0..N-1, waits for every result
//   redis_worker PORT wait                waits for every result of the job
//   redis_worker PORT work NAME DELAY_MS CLAIM_MS
//                                         a runner: 20 workers, each task sleeps
//                                         DELAY_MS and returns 2 x the item
#include <jobrunner/jobrunner.hpp>
#include <jobrunner/redis/stream_job.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace redis = jobrunner::redis;

int main(int argc, char** argv)
{
  if (argc < 3)
  {
    std::fprintf(stderr, "usage: redis_worker PORT submit N | PORT work NAME DELAY_MS CLAIM_MS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string mode = argv[2];
  asio::io_context io(1);
  redis::stream_job_config cfg;
  cfg.name = "test";
  int status = 0;
  try
  {
    if (mode == "submit" || mode == "wait")
    {
      auto conn = redis::connection::connect(io.get_executor(), "127.0.0.1", port);
      std::vector<std::string> values;
      for (long i = 0; mode == "submit" && argc > 3 && i < std::atol(argv[3]); ++i)
        values.push_back(std::to_string(i));
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            if (mode == "submit")
              co_await redis::submit(*conn, cfg, values);
            co_await redis::wait_for_results(*conn, cfg, std::chrono::milliseconds(50));
            conn->close();
          },
          [&](std::exception_ptr e) {
            if (e)
            {
              try
              {
                std::rethrow_exception(e);
              }
              catch (const std::exception& x)
              {
                std::fprintf(stderr, "redis_worker: submit: %s\n", x.what());
              }
              status = 1;
              conn->close();
            }
          });
      io.run();
      if (status == 0)
        std::printf("all results in\n");
      return status;
    }
    if (mode == "work" && argc >= 6)
    {
      cfg.consumer = argv[3];
      const auto delay = std::chrono::milliseconds(std::atol(argv[4]));
      cfg.claim_idle = std::chrono::milliseconds(std::atol(argv[5]));
      auto reader = redis::connection::connect(io.get_executor(), "127.0.0.1", port);
      auto acker = redis::connection::connect(io.get_executor(), "127.0.0.1", port);
      jobrunner::JobConfig config;
      config.workers = 20;
      config.work_queue_capacity = 20;
      jobrunner::JobRunner<redis::stream_item<long>, long> runner(
          io,
          [delay](redis::stream_item<long>& it) -> asio::awaitable<long> {
            asio::steady_timer t(co_await asio::this_coro::executor, delay);
            co_await t.async_wait(asio::use_awaitable);
            co_return it.value * 2;
          },
          config);
      redis::attach(
          runner, reader, acker, cfg, [](const std::string& s) { return std::stol(s); },
          [](const auto& r) { return r.ok() ? std::to_string(*r.value) : std::string("error"); });
      std::uint64_t processed = 0;
      runner.on_job_complete([&](const jobrunner::JobSummary& s) {
        processed = s.succeeded;
        if (s.producer_errors != 0)
        {
          try
          {
            std::rethrow_exception(s.first_producer_error);
          }
          catch (const std::exception& x)
          {
            std::fprintf(stderr, "redis_worker %s: stopped: %s\n", cfg.consumer.c_str(), x.what());
          }
          status = 1;
        }
        reader->close();
        acker->disconnect(); // after the last acknowledgements are answered
      });
      runner.async_run(asio::detached);
      io.run();
      std::printf("%s processed %llu items\n", cfg.consumer.c_str(),
                  static_cast<unsigned long long>(processed));
      return status;
    }
  }
  catch (const std::exception& e)
  {
    std::fprintf(stderr, "redis_worker: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "redis_worker: bad arguments\n");
  return 2;
}
