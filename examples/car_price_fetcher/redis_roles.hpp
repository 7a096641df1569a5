// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_REDIS_ROLES_HPP
#define CAR_PRICE_FETCHER_REDIS_ROLES_HPP

// The fetcher's distributed roles (--redis, needs hiredis): `work` prices
// cars from the job's Redis stream until every car has a result; `submit`
// writes the input's cars to the stream, waits for every result and writes
// them out. The wire format is in distributed.hpp.

#include <jobrunner/jobrunner.hpp>

#include "csv.hpp"
#include "distributed.hpp"
#include "endpoints.hpp"
#include "input.hpp"
#include "options.hpp"
#include "output.hpp"
#include "policy.hpp"

#include <boost/asio.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <vector>

namespace car_price {

inline std::string default_consumer()
{
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

// Where Redis is (--redis), and how to connect (AUTH from a redis:// URL).
inline std::pair<jobrunner::redis::address, jobrunner::redis::connection_options>
redis_address(const options& opt)
{
  jobrunner::redis::address a;
  try
  {
    a = jobrunner::redis::parse_address(opt.redis);
  }
  catch (const std::invalid_argument& e)
  {
    example_cli::bad_option(std::string("--redis: ") + e.what());
  }
  jobrunner::redis::connection_options o;
  o.user = a.user;
  o.password = a.password;
  return {a, o};
}

inline std::shared_ptr<jobrunner::redis::connection> redis_connect(asio::io_context& io,
                                                                   const options& opt)
{
  const auto [a, o] = redis_address(opt);
  return jobrunner::redis::connection::connect(io.get_executor(), a.host, a.port, o);
}

inline jobrunner::redis::stream_job_config redis_job(const options& opt)
{
  jobrunner::redis::stream_job_config cfg;
  cfg.name = opt.redis_job;
  cfg.consumer = opt.consumer.empty() ? default_consumer() : opt.consumer;
  // A car pending this long belonged to a worker that died: take it over.
  // Its time: twice what one car may take (timeout x attempts), plus twice
  // the wait of the cars read ahead under --rate or --per-host-rate (the
  // slower one: all of them may be for one host): (queue + workers) / rate.
  const auto per_car =
      std::chrono::milliseconds(opt.timeout_ms) * static_cast<long>(opt.retries + 1);
  double rate = opt.rate;
  if (opt.per_host_rate > 0 && (rate == 0 || opt.per_host_rate < rate))
    rate = opt.per_host_rate;
  const auto waiting = std::chrono::milliseconds(
      rate > 0 ? static_cast<long long>(static_cast<double>(opt.queue + opt.workers) / rate * 1000)
               : 0);
  cfg.claim_idle =
      std::max<std::chrono::milliseconds>(std::chrono::seconds(5), (per_car + waiting) * 2);
  return cfg;
}

// This worker could not reach the API at all on the car's last attempt (a
// wrong --url, its own network, or the endpoint the car went to was down):
// the car goes back to the other workers rather than being written failed.
// (Delivered too often, it ends as a dead letter.)
template <class Result>
bool cannot_reach_api(const Result& r)
{
  if (r.status != jobrunner::task_status::failed || !r.error)
    return false;
  try
  {
    std::rethrow_exception(r.error);
  }
  catch (const boost::system::system_error& e)
  {
    return cannot_connect(e.code());
  }
  catch (...)
  {
    return false;
  }
}

// --redis-role work: prices cars from the job's stream until it is complete.
inline int run_redis_worker(const options& opt, const std::vector<url>& urls)
{
  namespace redis = jobrunner::redis;
  asio::io_context io(1);
  auto tls = make_tls(opt);
  endpoints http(io.get_executor(), urls, &tls);
  const auto cfg = redis_job(opt);
  auto reader = redis_connect(io, opt);
  auto acker = redis_connect(io, opt);
  jobrunner::JobRunner<redis::stream_item<car>, quote> runner(
      io, [&http](redis::stream_item<car>& it) { return http.fetch(it.value); },
      make_config(opt, distinct_hosts(urls)));
  runner.retry_if([](const auto& r) { return retryable(r); });
  runner.key_by([&http](const redis::stream_item<car>& it) {
    return http.key_for(it.value); // --per-host
  });
  auto worker = redis::attach(
      runner, reader, acker, cfg, decode_car,
      [&opt](const auto& r) {
        const auto [status, error] = status_of(r, opt.timeout_ms);
        return encode_outcome(r.item.value, status, r.ok() ? &*r.value : nullptr, r.attempts,
                              error);
      },
      [](const auto& r) { return cannot_reach_api(r); });
  int exit_status = 0;
  bool signalled = false;
  runner.on_job_complete([&](const jobrunner::JobSummary& s) {
    std::fprintf(stderr,
                 "car_price_fetcher %s: job %s: %llu cars priced here: %llu ok, %llu failed, "
                 "%llu timed out; %llu released for other workers\n",
                 cfg.consumer.c_str(), worker->job_id().c_str(),
                 static_cast<unsigned long long>(worker->acknowledged()),
                 static_cast<unsigned long long>(s.succeeded),
                 static_cast<unsigned long long>(s.failed),
                 static_cast<unsigned long long>(s.timed_out),
                 static_cast<unsigned long long>(worker->released()));
    if (s.producer_errors != 0 || !worker->failure().empty())
    {
      std::fprintf(stderr, "car_price_fetcher %s: stopped: %s\n", cfg.consumer.c_str(),
                   worker->failure().empty() ? describe(s.first_producer_error).c_str()
                                             : worker->failure().c_str());
      exit_status = 1;
    }
    else if (worker->job_cancelled())
    {
      std::fprintf(stderr, "car_price_fetcher %s: job %s was cancelled\n", cfg.consumer.c_str(),
                   worker->job_id().c_str());
      exit_status = 1;
    }
    else if (signalled)
      exit_status = 130;
    reader->close();
    acker->disconnect(); // once the last acknowledgements and releases are answered
  });
  // SIGINT/SIGTERM: take no more cars, finish those taken within the time
  // one car may take (timeout x attempts), then cancel the rest: they are
  // released to the other workers, not written cancelled. A second signal
  // cancels at once.
  // A progress line every 2 s (unless --progress none).
  asio::steady_timer ticker(io);
  std::function<void(boost::system::error_code)> tick = [&](boost::system::error_code ec) {
    if (ec)
      return;
    const auto st = runner.stats();
    if (worker->job_id().empty())
      std::fprintf(stderr, "car_price_fetcher %s: waiting for a job %s\n", cfg.consumer.c_str(),
                   cfg.name.c_str());
    else
      std::fprintf(stderr,
                   "car_price_fetcher %s: job %s: %llu cars priced here, %llu in flight, %llu "
                   "reclaimed, %llu released, %llu lost acknowledgements\n",
                   cfg.consumer.c_str(), worker->job_id().c_str(),
                   static_cast<unsigned long long>(worker->acknowledged()),
                   static_cast<unsigned long long>(st.submitted - st.done()),
                   static_cast<unsigned long long>(worker->reclaimed()),
                   static_cast<unsigned long long>(worker->released()),
                   static_cast<unsigned long long>(worker->lost_acks()));
    ticker.expires_after(std::chrono::seconds(2));
    ticker.async_wait(tick);
  };
  if (opt.progress != "none")
  {
    ticker.expires_after(std::chrono::seconds(2));
    ticker.async_wait(tick);
  }
  asio::steady_timer grace(io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec,
                                                                      int) {
    if (ec)
      return;
    if (signalled)
    {
      runner.cancel();
      return;
    }
    signalled = true;
    worker->stop();
    grace.expires_after(std::chrono::milliseconds(opt.timeout_ms)
                        * static_cast<long>(opt.retries + 1));
    grace.async_wait([&](boost::system::error_code e) {
      if (!e)
        runner.cancel();
    });
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  runner.async_run([&](boost::system::error_code, jobrunner::JobSummary) {
    signals.cancel();
    grace.cancel();
    ticker.cancel();
  });
  io.run();
  return exit_status;
}

// --redis-role status | cancel: prints the latest job's status, or cancels
// the live job. Exit 0; 1 if Redis failed, or (cancel) no job was live.
inline int run_redis_control(const options& opt)
{
  namespace redis = jobrunner::redis;
  asio::io_context io(1);
  const auto cfg = redis_job(opt);
  auto conn = redis_connect(io, opt);
  int exit_status = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        if (opt.redis_role == "cancel")
        {
          const auto id = co_await redis::cancel_job(*conn, cfg);
          if (id.empty())
          {
            std::fprintf(stderr, "car_price_fetcher: no live job %s\n", cfg.name.c_str());
            exit_status = 1;
          }
          else
            std::printf("job %s of %s cancelled\n", id.c_str(), cfg.name.c_str());
        }
        else
        {
          const auto st = co_await redis::read_status(*conn, cfg, opt.job_id);
          const auto& p = st.progress;
          if (p.state.empty())
            std::printf("no job %s\n", cfg.name.c_str());
          else
            std::printf("job %s of %s: %s, %lld/%lld cars done, %lld not ok, %lld dead letters, "
                        "%lld reclaimed, %lld held by workers\n",
                        p.id.c_str(), cfg.name.c_str(), p.state.c_str(), p.done, p.total, p.failed,
                        p.dead, p.reclaimed, st.pending);
          for (const auto& c : st.consumers)
            std::printf("  %s: %lld held, idle %lld ms\n", c.name.c_str(), c.pending, c.idle_ms);
          for (const auto& d : st.dead_letters)
            std::printf("  dead letter %s (line %zu) after %lld deliveries: %s\n", d.item.c_str(),
                        decode_car(d.data).line, d.deliveries, d.error.c_str());
        }
        conn->close();
      },
      [&](std::exception_ptr e) {
        if (e)
        {
          std::fprintf(stderr, "car_price_fetcher: %s\n", describe(e).c_str());
          exit_status = 1;
          conn->close();
        }
      });
  io.run();
  return exit_status;
}

// --redis-role submit: writes the cars to the job's stream, waits for every
// result, writes them out.
inline int run_redis_submitter(const options& opt, input& in, writer& results)
{
  namespace redis = jobrunner::redis;
  std::vector<car> rows; // the valid rows, in input order
  std::vector<std::string> cars;
  std::size_t invalid = 0;
  while (auto row = in.next())
  {
    if (auto* bad = std::get_if<bad_row>(&*row))
    {
      ++invalid;
      std::fprintf(stderr, "car_price_fetcher: %s: line %zu skipped: %s\n", opt.input.c_str(),
                   bad->line, bad->error.c_str());
      results.invalid(*bad);
    }
    else
    {
      rows.push_back(std::get<car>(*row));
      cars.push_back(encode_car(rows.back()));
    }
  }
  asio::io_context io(1);
  const auto cfg = redis_job(opt);
  std::size_t ok = 0, not_ok = 0;
  int exit_status = 0;
  std::string stop_reason;
  std::shared_ptr<redis::connection> conn;
  try
  {
    conn = redis_connect(io, opt);
  }
  catch (const std::exception& e) // say, an unresolvable host: no row is lost
  {
    stop_reason = e.what();
    std::fprintf(stderr, "car_price_fetcher: stopped: %s\n", stop_reason.c_str());
    exit_status = 1;
  }
  // The cars whose result was written (encoded; a car may appear twice).
  std::unordered_map<std::string, std::size_t> written;
  const auto started = std::chrono::steady_clock::now();
  if (conn)
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          std::string id;
          if (opt.attach)
          {
            // Re-attached: nothing is submitted; the job must be this input's.
            const auto p = co_await redis::find_job(*conn, cfg, opt.job_id);
            if (p.total != static_cast<long long>(cars.size()))
              throw redis::error("job " + p.id + " of " + cfg.name + " has "
                                 + std::to_string(p.total) + " cars, this input "
                                 + std::to_string(cars.size())
                                 + ": it was submitted from another input");
            id = p.id;
            std::fprintf(stderr,
                         "car_price_fetcher: attached to job %s of %s: %s, %lld/%lld done\n",
                         id.c_str(), cfg.name.c_str(), p.state.c_str(), p.done, p.total);
          }
          else
          {
            id = co_await redis::submit(*conn, cfg, cars);
            std::fprintf(stderr, "car_price_fetcher: %zu cars submitted as job %s of %s\n",
                         cars.size(), id.c_str(), cfg.name.c_str());
          }
          // Named, not built inside the co_await (g++ 12 destroys such
          // temporaries twice).
          std::function<void(const redis::job_progress&)> show = [&](const redis::job_progress& p) {
            if (opt.progress != "none")
              std::fprintf(stderr, "progress: %lld/%zu done\n", p.done, cars.size());
          };
          std::string wait_error; // the job was cancelled, expired, or Redis stayed lost
          try
          {
            co_await redis::wait_for_results(*conn, cfg, id, std::chrono::seconds(1),
                                             std::move(show));
          }
          catch (const redis::error& e)
          {
            wait_error = e.what();
          }
          // The results there are are written even when the wait failed (a
          // cancelled job keeps them until its keys expire); the rest then
          // go out cancelled.
          if (!wait_error.empty() && !conn->connected())
            throw redis::error(wait_error);
          const redis::job_keys keys(cfg, id);
          // Every result, in the order they came in.
          std::function<void(const std::string&, const redis::reply&)> on_result =
              [&](const std::string&, const redis::reply& fields) {
                auto o = decode_outcome(redis::field(fields, "result"));
                (o.q ? ok : not_ok) += 1;
                ++written[encode_car(o.c)];
                results.priced(o.c, o.status.c_str(), o.q ? &*o.q : nullptr, o.attempts, o.error);
              };
          co_await redis::read_stream(*conn, keys.results(), on_result);
          // Cars delivered too often without a result (their workers died,
          // or released them): failed, with the last error.
          std::function<void(const std::string&, const redis::reply&)> on_dead =
              [&](const std::string&, const redis::reply& fields) {
                const auto d = redis::to_dead_letter(fields);
                const auto c = decode_car(d.data);
                ++not_ok;
                ++written[encode_car(c)];
                results.priced(c, "failed", nullptr, static_cast<unsigned>(d.deliveries),
                               "dead letter after " + std::to_string(d.deliveries)
                                   + " deliveries: " + d.error);
              };
          co_await redis::read_stream(*conn, keys.dead(), on_dead);
          if (!wait_error.empty())
            throw redis::error(wait_error);
          conn->close();
        },
        [&](std::exception_ptr e) {
          if (e)
          {
            stop_reason = describe(e);
            if (stop_reason.find("JOBLIVE") != std::string::npos) // never replaced: say what to do
              stop_reason += " (--attach collects its results; --redis-role cancel cancels it)";
            std::fprintf(stderr, "car_price_fetcher: stopped: %s\n", stop_reason.c_str());
            exit_status = 1;
            conn->close();
          }
        });
  io.run();
  if (exit_status != 0)
  {
    // One line per row even when stopped: the rows without a result here
    // are written `cancelled`, with the reason (the job may still go on in
    // Redis; this output does not have their prices).
    for (std::size_t i = 0; i < rows.size(); ++i)
    {
      auto it = written.find(cars[i]);
      if (it != written.end() && it->second > 0)
      {
        --it->second;
        continue;
      }
      ++not_ok;
      results.priced(rows[i], "cancelled", nullptr, 0, stop_reason);
    }
  }
  if (!results.close())
    return report_unsaved(results);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr,
               "car_price_fetcher: %zu rows: %zu priced, %zu not priced, %zu invalid; %.2f s, "
               "%.1f cars/s\n",
               cars.size() + invalid, ok, not_ok, invalid, secs,
               secs > 0 ? static_cast<double>(ok) / secs : 0.0);
  if (exit_status != 0)
    return exit_status;
  return not_ok + invalid != 0 ? 1 : 0;
}

} // namespace car_price

#endif
