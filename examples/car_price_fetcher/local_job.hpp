// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_LOCAL_JOB_HPP
#define CAR_PRICE_FETCHER_LOCAL_JOB_HPP

// The single-machine job: one JobRunner on one thread reads the cars from
// the input, prices them through the API, and writes one output line per
// row; progress and a summary on stderr. Returns the exit status.

#include <jobrunner/jobrunner.hpp>

#include "endpoints.hpp"
#include "input.hpp"
#include "metrics_file.hpp"
#include "options.hpp"
#include "output.hpp"
#include "policy.hpp"
#include "progress.hpp"
#include "stop_rules.hpp"

#include <boost/asio.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace car_price {

// One car through the client, with what the stop rules need to see: a car
// priced, a push-back (which may stop the job).
inline asio::awaitable<quote> fetch_watched(endpoints& http, pushback_rule& pushback,
                                            std::function<void(const std::string&)>& stop_early,
                                            car& c)
{
  try
  {
    auto q = co_await http.fetch(c);
    pushback.priced();
    co_return q;
  }
  catch (const jobrunner::retry_after&)
  {
    if (pushback.pushed_back(std::chrono::steady_clock::now()))
      stop_early(pushback.reason());
    throw;
  }
}

// The summary on stderr, and the exit status it stands for (README).
inline int summarize(const jobrunner::JobSummary& summary, std::size_t invalid, std::size_t unsent,
                     std::size_t unsent_unavailable, std::size_t connections, const input& in,
                     const pushback_rule& pushback, const std::string& stop_reason,
                     bool interrupted)
{
  if (in.abandoned())
    std::fprintf(stderr,
                 "car_price_fetcher: the input was not read past line %zu (interrupted twice): "
                 "the rows after it are not in the output\n",
                 in.lines_read());

  auto ms = [](std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; };
  std::fprintf(stderr,
               "car_price_fetcher: %llu rows: %llu priced, %llu failed, %llu timed out, "
               "%llu cancelled, %llu unavailable, %llu expired, %zu invalid\n"
               "  %.2f s, %.1f cars/s, latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
               "%llu retries (%llu refused by the retry budget), paused %.1f s by the server, "
               "%zu connections\n",
               static_cast<unsigned long long>(summary.submitted + invalid + unsent),
               static_cast<unsigned long long>(summary.succeeded),
               static_cast<unsigned long long>(summary.failed),
               static_cast<unsigned long long>(summary.timed_out),
               static_cast<unsigned long long>(summary.cancelled + unsent - unsent_unavailable),
               static_cast<unsigned long long>(summary.unavailable + unsent_unavailable),
               static_cast<unsigned long long>(summary.expired + summary.expired_in_queue), invalid,
               ms(summary.elapsed) / 1e3, summary.items_per_second, ms(summary.latency.p50),
               ms(summary.latency.p99), ms(summary.latency.max),
               static_cast<unsigned long long>(summary.retried),
               static_cast<unsigned long long>(summary.retries_refused), ms(summary.paused) / 1e3,
               connections);
  if (summary.producer_errors != 0)
    std::fprintf(stderr, "car_price_fetcher: reading the input failed: %s\n",
                 describe(summary.first_producer_error).c_str());
  if (pushback.count() != 0)
    std::fprintf(stderr, "car_price_fetcher: the server pushed back %zu times (429)\n",
                 pushback.count());
  if (!stop_reason.empty())
  {
    std::fprintf(stderr, "car_price_fetcher: stopped: %s\n", stop_reason.c_str());
    return 3;
  }
  if (summary.status == jobrunner::job_status::aborted)
  {
    std::fprintf(stderr, "car_price_fetcher: stopped: the failure budget was exceeded\n");
    return 3;
  }
  if (interrupted)
    return 130;
  if (summary.failed + summary.timed_out + summary.cancelled + summary.unavailable + summary.expired
              + summary.expired_in_queue + invalid + unsent
          != 0
      || summary.producer_errors != 0)
    return 1;
  return 0;
}

inline int run_local_job(const options& opt, const std::vector<url>& urls, input& in,
                         writer& results)
{
  asio::io_context io(1);
  // The input's stream descriptor (a pipe) belongs to `io`: closed first.
  struct stream_closer
  {
    input& in;
    ~stream_closer() { in.close_stream(); }
  } close_stream_first{in};
  auto tls = make_tls(opt);
  endpoints http(io.get_executor(), urls, &tls);
  struct file_closer
  {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, file_closer> trace;
  if (!opt.trace.empty())
  {
    trace.reset(std::fopen(opt.trace.c_str(), "w"));
    if (!trace)
    {
      std::fprintf(stderr, "car_price_fetcher: cannot write the trace %s: %s\n", opt.trace.c_str(),
                   std::strerror(errno));
      return 2;
    }
    http.trace_to(trace.get());
  }

  http.max_retry_after(std::chrono::seconds(opt.max_retry_after_s));

  // --metrics-file: checked writable before the job starts.
  metrics_file metrics(io, opt.metrics_file, opt.metrics_interval_s);
  const jobrunner::OpenMetricsOptions metrics_names{"jobrunner", {{"job", "car_price_fetcher"}}};
  if (metrics.enabled()
      && !metrics.write(jobrunner::to_openmetrics(jobrunner::JobStats{}, metrics_names)))
  {
    std::fprintf(stderr, "car_price_fetcher: cannot write the metrics: %s\n",
                 metrics.error().c_str());
    return 2;
  }

  jobrunner::JobConfig config = make_config(opt, distinct_hosts(urls));
  // No more workers than rows: each costs memory (README), even idle.
  if (in.total_rows() != 0)
    config.workers = std::min(config.workers, in.total_rows());

  // Stopping early because of the server (stop_rules.hpp): the reason goes
  // to the summary and to every row not sent.
  pushback_rule pushback(
      std::chrono::milliseconds(static_cast<long long>(opt.max_paused_s * 1000)));
  std::string stop_reason;
  std::function<void(const std::string&)> stop_early;

  using runner_type = jobrunner::JobRunner<car, quote>;
  runner_type runner(
      io, [&](car& c) { return fetch_watched(http, pushback, stop_early, c); }, config);
  runner.retry_if([](const auto& r) { return retryable(r); });
  runner.key_by([&http](const car& c) { return http.key_for(c); }); // --per-host
  // The circuit breaker (make_config) counts what would be retried: the
  // server's failures, not a row's (4xx, bad answers).
  std::string last_failure; // the last server failure, for the unavailable rows
  runner.breaker_failure_if([&](const auto& r) {
    const bool server_failure = retryable(r);
    if (server_failure)
      last_failure = status_of(r, opt.timeout_ms).second;
    return server_failure;
  });
  auto unavailable_reason = [&] {
    char open_for[64];
    std::snprintf(open_for, sizeof open_for, "%g s", opt.unavailable_after_s);
    return (urls.size() == 1 ? "the server " : "the service (") + http.names()
           + (urls.size() == 1 ? "" : ")") + " is unavailable (the circuit breaker stayed open "
           + open_for
           + (last_failure.empty() ? std::string(")") : "; last error: " + last_failure + ")");
  };
  bool interrupted = false;
  stop_early = [&](const std::string& reason) {
    if (!stop_reason.empty() || interrupted)
      return;
    stop_reason = reason;
    runner.cancel();
  };
  auto not_sent = [&] {
    return "not sent: " + (stop_reason.empty() ? std::string("the job was stopped") : stop_reason);
  };

  std::size_t invalid = 0;
  std::size_t rows_read = 0;
  std::size_t unsent = 0;
  std::size_t unsent_unavailable = 0; // of those, not sent because the server was unavailable
  bool stopped = false;
  bool input_done = false;

  const auto started = std::chrono::steady_clock::now();
  progress display(io, opt.progress, [&] {
    const auto s = runner.stats();
    progress_snapshot p;
    p.done = s.done() + invalid + unsent;
    p.total = in.total_rows() != 0 ? in.total_rows() : (input_done ? rows_read : 0);
    p.priced = s.done();
    p.failures = s.failed + s.timed_out;
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return p;
  });

  // Rows are reserved in the output as they are read, so that --ordered
  // writes every row, whatever its status, in input order.
  // A write failure stops the job: its results could not be saved.
  bool output_failed = false;
  auto check_output = [&] {
    if (results.failed() && !output_failed)
    {
      output_failed = true;
      runner.cancel();
    }
  };

  // The producer: reads the CSV lazily, without blocking the event loop on
  // a pipe; invalid rows go straight to the output (they never reach the
  // API).
  runner.add_producer([&](auto& submitter) -> asio::awaitable<void> {
    // Stopped (interrupt, failure budget or output failure): the rest of
    // the input is still read, and each row reported once, as not sent.
    // The job's cancellation reached this coroutine too: it is reset so
    // that reading goes on (inline: co_await on a nested awaitable throws
    // while the coroutine is cancelled).
    for (;;)
    {
      auto row = in.next_buffered();
      if (!row)
      {
        if (in.at_end())
          break;
        try
        {
          co_await in.async_fill();
        }
        catch (const boost::system::system_error& e)
        {
          if (e.code() != asio::error::operation_aborted || !submitter.cancelled())
            throw;
        }
        if (submitter.cancelled() && !stopped)
        {
          stopped = true;
          co_await asio::this_coro::reset_cancellation_state();
        }
        continue;
      }
      ++rows_read;
      if (auto* bad = std::get_if<bad_row>(&*row))
      {
        ++invalid;
        // (A line break first only to leave the progress bar's line.)
        std::fprintf(stderr, "%scar_price_fetcher: %s: line %zu skipped: %s\n",
                     display.is_bar() ? "\n" : "", opt.input.c_str(), bad->line,
                     bad->error.c_str());
        results.reserve(bad->line);
        results.invalid(*bad);
        check_output();
        continue;
      }
      car c = std::move(std::get<car>(*row));
      results.reserve(c.line);
      if (!stopped && submitter.try_submit(c))
        continue;
      if (!stopped && !submitter.cancelled())
      {
        car copy = c; // submit takes the car; keep what the output needs
        try
        {
          co_await submitter.submit(std::move(c));
          continue;
        }
        catch (const boost::system::system_error&)
        {
          c = std::move(copy); // the job was stopped
        }
      }
      if (!stopped)
      {
        stopped = true;
        co_await asio::this_coro::reset_cancellation_state();
      }
      ++unsent;
      if (submitter.service_unavailable())
      {
        ++unsent_unavailable;
        results.priced(c, "unavailable", nullptr, 0, "not sent: " + unavailable_reason());
      }
      else
        results.priced(c, "cancelled", nullptr, 0, not_sent());
    }
    input_done = true;
  });

  runner.on_task_complete([&](auto& r) {
    auto [status, error] = status_of(r, opt.timeout_ms);
    if (r.status == jobrunner::task_status::unavailable)
      error = (r.attempts != 0 ? "stopped in flight: " : "not sent: ") + unavailable_reason();
    if (r.status == jobrunner::task_status::cancelled && (!r.error || !stop_reason.empty()))
      error = r.error ? "stopped in flight: " + stop_reason : not_sent();
    results.priced(r.item, status, r.ok() ? &*r.value : nullptr, r.attempts, error);
    check_output();
  });

  display.start();

  // A first SIGINT/SIGTERM drains the job: no more cars are sent, those in
  // flight (and their retries) finish; the rest of the input is still read
  // and reported cancelled. A second one cancels the cars in flight and,
  // from a pipe that may never end, stops reading it (the rows not read are
  // then not in the output, and the summary says from which line).
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (ec)
        return;
      if (interrupted)
      {
        runner.cancel();
        if (in.is_stream())
          in.abandon();
        return;
      }
      interrupted = true;
      runner.drain();
      std::fprintf(stderr,
                   "%scar_price_fetcher: interrupted: finishing the cars in flight%s; "
                   "interrupt again to cancel them%s\n",
                   display.is_bar() ? "\n" : "",
                   in.is_stream() && !in.at_end() ? " and reading the rest of the input" : "",
                   in.is_stream() && !in.at_end() ? " and stop reading" : "");
      wait_for_signal();
    });
  };
  wait_for_signal();
  if (metrics.enabled())
    metrics.start([&] { return jobrunner::to_openmetrics(runner.stats(), metrics_names); });

  jobrunner::JobSummary summary;
  runner.async_run([&](boost::system::error_code, jobrunner::JobSummary s) {
    summary = std::move(s);
    display.finish();
    signals.cancel();
    metrics.stop();
  });
  io.run();
  if (metrics.enabled() && !metrics.write(jobrunner::to_openmetrics(summary, metrics_names)))
    std::fprintf(stderr, "car_price_fetcher: cannot write the metrics: %s\n",
                 metrics.error().c_str());
  const bool saved = results.close();
  display.show(true);
  if (!saved)
    return report_unsaved(results);

  if (summary.status == jobrunner::job_status::unavailable && stop_reason.empty())
    stop_reason = unavailable_reason();
  return summarize(summary, invalid, unsent, unsent_unavailable, http.connections_made(), in,
                   pushback, stop_reason, interrupted);
}

} // namespace car_price

#endif
