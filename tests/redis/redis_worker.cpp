// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// A process of the distributed test (tests/redis/redis_e2e.py); the job is
// named "test":
//   redis_worker PORT submit N            creates a job of items 0..N-1, prints its id,
//                                         waits for every result (exit 1: refused,
//                                         cancelled or Redis failed)
//   redis_worker PORT wait                waits for every result of the latest job
//   redis_worker PORT cancel              cancels the live job
//   redis_worker PORT status              prints the latest job's status
//   redis_worker PORT work NAME DELAY_MS CLAIM_MS [GRACE_MS]
//                                         a runner: 20 workers, each task sleeps
//                                         DELAY_MS and returns 2 x the item. SIGTERM
//                                         or SIGINT: stop taking items, finish the
//                                         ones taken within GRACE_MS (default 10 s),
//                                         release the rest; exit 130. Exit 3: the
//                                         job was cancelled; 1: Redis failed.
// Environment: REDIS_WORKER_TIMEOUT_MS (connect and command timeout),
// REDIS_WORKER_RECONNECT_MS (how long a lost connection is retried),
// REDIS_WORKER_USER and REDIS_WORKER_PASSWORD (AUTH); REDIS_WORKER_URL (an
// address instead of 127.0.0.1:PORT, redis://user:password@host:port too); REDIS_WORKER_CRASH_ON=V
// (the task exits the process, status 70, on the item V: a poison item);
// REDIS_WORKER_OWN_FAILURE=1 (every task fails with "own: connection refused",
// which the runner releases as its own problem); REDIS_WORKER_THREADS=K (work:
// K runners in this process, each on its own thread, io_context and
// connections, consumers NAME-0 .. NAME-K-1).
#include <jobrunner/jobrunner.hpp>
#include <jobrunner/redis/stream_job.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace redis = jobrunner::redis;

namespace {

long env_ms(const char* name, long fallback)
{
  const char* v = std::getenv(name);
  return v != nullptr ? std::atol(v) : fallback;
}

redis::connection_options connection_options()
{
  redis::connection_options o;
  o.connect_timeout = std::chrono::milliseconds(env_ms("REDIS_WORKER_TIMEOUT_MS", 5000));
  o.command_timeout = std::chrono::milliseconds(env_ms("REDIS_WORKER_TIMEOUT_MS", 10000));
  if (const char* u = std::getenv("REDIS_WORKER_USER"))
    o.user = u;
  if (const char* p = std::getenv("REDIS_WORKER_PASSWORD"))
    o.password = p;
  return o;
}

std::shared_ptr<redis::connection> connect(asio::io_context& io, int port)
{
  auto options = connection_options();
  redis::address a{"127.0.0.1", port, {}, {}};
  if (const char* url = std::getenv("REDIS_WORKER_URL"))
  {
    a = redis::parse_address(url);
    options.user = a.user;
    options.password = a.password;
  }
  return redis::connection::connect(io.get_executor(), a.host, a.port, options);
}

redis::stream_job_config job_config()
{
  redis::stream_job_config cfg;
  cfg.name = "test";
  cfg.reconnect_for = std::chrono::milliseconds(env_ms("REDIS_WORKER_RECONNECT_MS", 30000));
  return cfg;
}

std::string what(std::exception_ptr e)
{
  try
  {
    std::rethrow_exception(e);
  }
  catch (const std::exception& x)
  {
    return x.what();
  }
  catch (...)
  {
    return "unknown error";
  }
}

int client(int port, const std::string& mode, long n)
{
  asio::io_context io(1);
  const auto cfg = job_config();
  auto conn = connect(io, port);
  int status = 0;
  std::vector<std::string> values;
  for (long i = 0; i < n; ++i)
    values.push_back(std::to_string(i));
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::string id;
        if (mode == "submit")
        {
          id = co_await redis::submit(*conn, cfg, values);
          std::printf("job %s submitted\n", id.c_str());
          std::fflush(stdout);
        }
        else
          id = co_await redis::current_job(*conn, cfg);
        if (mode == "status")
        {
          const auto st = co_await redis::read_status(*conn, cfg);
          const auto& p = st.progress;
          if (p.state.empty())
            std::printf("no job of %s\n", cfg.name.c_str());
          else
            std::printf("job %s of %s: %s, %lld/%lld done, %lld failed, %lld dead letters, %lld "
                        "reclaimed, %lld pending\n",
                        p.id.c_str(), cfg.name.c_str(), p.state.c_str(), p.done, p.total, p.failed,
                        p.dead, p.reclaimed, st.pending);
          for (const auto& c : st.consumers)
            std::printf("  %s: %lld pending, idle %lld ms\n", c.name.c_str(), c.pending, c.idle_ms);
          for (const auto& d : st.dead_letters)
            std::printf("  dead letter %s: value %s after %lld deliveries: %s\n", d.item.c_str(),
                        d.data.c_str(), d.deliveries, d.error.c_str());
        }
        else if (mode == "cancel")
        {
          id = co_await redis::cancel_job(*conn, cfg);
          std::printf(id.empty() ? "no live job\n" : "job %s cancelled\n", id.c_str());
        }
        else
        {
          const auto p =
              co_await redis::wait_for_results(*conn, cfg, id, std::chrono::milliseconds(50));
          std::printf("all results in: job %s, %lld done, %lld dead letters\n", id.c_str(), p.done,
                      p.dead);
          // Each dead letter with why (the submitter reports them).
          const redis::job_keys keys(cfg, id);
          std::function<void(const std::string&, const redis::reply&)> show =
              [](const std::string&, const redis::reply& fields) {
                const auto d = redis::to_dead_letter(fields);
                std::printf("dead letter: value %s after %lld deliveries: %s\n", d.data.c_str(),
                            d.deliveries, d.error.c_str());
              };
          co_await redis::read_stream(*conn, keys.dead(), show);
        }
        conn->close();
      },
      [&](std::exception_ptr e) {
        if (e)
        {
          std::fprintf(stderr, "redis_worker: %s: %s\n", mode.c_str(), what(e).c_str());
          status = 1;
          conn->close();
        }
      });
  io.run();
  return status;
}

int work(int port, const std::string& name, std::chrono::milliseconds delay,
         std::chrono::milliseconds claim, std::chrono::milliseconds grace)
{
  asio::io_context io(1);
  auto cfg = job_config();
  cfg.consumer = name;
  cfg.claim_idle = claim;
  auto reader = connect(io, port);
  auto acker = connect(io, port);
  jobrunner::JobConfig config;
  config.workers = 20;
  config.work_queue_capacity = 20;
  const long crash_on = env_ms("REDIS_WORKER_CRASH_ON", -1);
  const bool own_failure = env_ms("REDIS_WORKER_OWN_FAILURE", 0) == 1;
  jobrunner::JobRunner<redis::stream_item<long>, long> runner(
      io,
      [delay, crash_on, own_failure](redis::stream_item<long>& it) -> asio::awaitable<long> {
        if (it.value == crash_on)
          std::_Exit(70);
        asio::steady_timer t(co_await asio::this_coro::executor, delay);
        co_await t.async_wait(asio::use_awaitable);
        if (own_failure)
          throw std::runtime_error("own: connection refused");
        co_return it.value * 2;
      },
      config);
  auto worker = redis::attach(
      runner, reader, acker, cfg, [](const std::string& s) { return std::stol(s); },
      [](const auto& r) { return r.ok() ? std::to_string(*r.value) : std::string("error"); },
      [](const auto& r) { return r.error && what(r.error).rfind("own:", 0) == 0; });
  int status = 0;
  bool signalled = false;
  asio::steady_timer grace_timer(io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec,
                                                                      int) {
    if (ec)
      return;
    if (!signalled)
    {
      signalled = true;
      worker->stop();
      grace_timer.expires_after(grace);
      grace_timer.async_wait([&](boost::system::error_code e) {
        if (!e)
          runner.cancel();
      });
      signals.async_wait(on_signal);
    }
    else
      runner.cancel(); // a second signal: at once
  };
  signals.async_wait(on_signal);
  runner.on_job_complete([&](const jobrunner::JobSummary& s) {
    if (s.producer_errors != 0)
    {
      std::fprintf(stderr, "redis_worker %s: stopped: %s\n", name.c_str(),
                   what(s.first_producer_error).c_str());
      status = 1;
    }
    else if (!worker->failure().empty())
    {
      std::fprintf(stderr, "redis_worker %s: stopped: %s\n", name.c_str(),
                   worker->failure().c_str());
      status = 1;
    }
    else if (worker->job_cancelled())
    {
      std::fprintf(stderr, "redis_worker %s: job %s was cancelled\n", name.c_str(),
                   worker->job_id().c_str());
      status = 3;
    }
    else if (signalled)
      status = 130;
    reader->close();
    acker->disconnect(); // after the last acknowledgements are answered
    signals.cancel();
    grace_timer.cancel();
  });
  runner.async_run(asio::detached);
  io.run();
  std::printf("%s job %s: processed %llu, acknowledged %llu, released %llu, reclaimed %llu, "
              "lost acknowledgements %llu, reconnections %llu\n",
              name.c_str(), worker->job_id().c_str(),
              static_cast<unsigned long long>(worker->taken()),
              static_cast<unsigned long long>(worker->acknowledged()),
              static_cast<unsigned long long>(worker->released()),
              static_cast<unsigned long long>(worker->reclaimed()),
              static_cast<unsigned long long>(worker->lost_acks()),
              static_cast<unsigned long long>(reader->reconnects() + acker->reconnects()));
  return status;
}

} // namespace

int main(int argc, char** argv)
{
  if (argc < 3)
  {
    std::fprintf(stderr, "usage: redis_worker PORT submit N | wait | cancel | work NAME DELAY_MS "
                         "CLAIM_MS [GRACE_MS]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string mode = argv[2];
  try
  {
    if (mode == "submit" && argc >= 4)
      return client(port, mode, std::atol(argv[3]));
    if (mode == "wait" || mode == "cancel" || mode == "status")
      return client(port, mode, 0);
    if (mode == "work" && argc >= 6)
    {
      const std::string name = argv[3];
      const std::chrono::milliseconds delay(std::atol(argv[4])), claim(std::atol(argv[5])),
          grace(argc >= 7 ? std::atol(argv[6]) : 10000);
      const long threads = env_ms("REDIS_WORKER_THREADS", 1);
      if (threads <= 1)
        return work(port, name, delay, claim, grace);
      // One process, several runners: each on a thread of its own, with
      // its own io_context and connections (consumer NAME-K).
      std::vector<int> status(static_cast<std::size_t>(threads), 0);
      std::vector<std::thread> pool;
      for (long t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          auto& st = status[static_cast<std::size_t>(t)];
          try
          {
            st = work(port, name + "-" + std::to_string(t), delay, claim, grace);
          }
          catch (const std::exception& e)
          {
            std::fprintf(stderr, "redis_worker: %s\n", e.what());
            st = 1;
          }
        });
      for (auto& t : pool)
        t.join();
      return *std::max_element(status.begin(), status.end());
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
