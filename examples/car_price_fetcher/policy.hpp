// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_POLICY_HPP
#define CAR_PRICE_FETCHER_POLICY_HPP

// How the fetcher drives the runner, shared by the single-machine job and
// the distributed worker: the runner's configuration from the options,
// which failures are retried, a result's status word and error text, and
// the TLS context for https.

#include <jobrunner/jobrunner.hpp>

#include "api.hpp"
#include "http_client.hpp"
#include "options.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <utility>

namespace car_price {

// A network or HTTP parser error as a sentence for the user (the parser's
// own words, e.g. "bad version", only in parentheses).
inline std::string explain(const boost::system::error_code& ec)
{
  namespace http = boost::beast::http;
  if (ec.category() == http::make_error_code(http::error::bad_version).category())
  {
    switch (static_cast<http::error>(ec.value()))
    {
    case http::error::end_of_stream:
      return "the server closed the connection without answering";
    case http::error::partial_message:
    case http::error::short_read:
      return "the connection closed before the answer was complete";
    case http::error::header_limit:
      return "the server's answer has a header over the 16 KiB limit";
    case http::error::body_limit:
      return "the server's answer has a body over the 64 KiB limit";
    case http::error::buffer_overflow:
      return "the server's answer is over the buffer limit";
    default:
      return "the server's answer is not HTTP (" + ec.message() + ")";
    }
  }
  if (ec == boost::asio::error::eof)
    return "the server closed the connection without answering";
  if (ec == boost::asio::error::connection_reset)
    return "the server reset the connection";
  return ec.message();
}

inline std::string describe(std::exception_ptr e)
{
  if (!e)
    return {};
  try
  {
    std::rethrow_exception(e);
  }
  catch (const jobrunner::retry_after&)
  {
    return "the server kept asking to retry later (429)";
  }
  catch (const boost::system::system_error& x)
  {
    return explain(x.code());
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

// Retry network errors, timeouts and 5xx; not 4xx nor malformed answers.
template <class Result>
bool retryable(const Result& r)
{
  if (r.status == jobrunner::task_status::timed_out)
    return true;
  if (r.status != jobrunner::task_status::failed || !r.error)
    return false;
  try
  {
    std::rethrow_exception(r.error);
  }
  catch (const http_status_error& e)
  {
    return e.server_side();
  }
  catch (const bad_response&)
  {
    return false;
  }
  catch (const boost::system::system_error& e)
  {
    return e.code() != asio::error::operation_aborted;
  }
  catch (...)
  {
    return false;
  }
}

// --per-host: the most requests in flight to one host. By default half the
// workers (rounded up) once the URLs name two or more hosts, so that a slow
// host holds at most half of them; no cap with one host (--workers is then
// the cap) or with --ordered (the runner's ordered delivery does not go with
// per-key limits).
inline std::size_t per_host_cap(const options& opt, std::size_t hosts)
{
  if (opt.per_host >= 0)
    return static_cast<std::size_t>(opt.per_host);
  if (hosts < 2 || opt.ordered)
    return 0;
  return (opt.workers + 1) / 2;
}

// The runner's configuration; `hosts`: the distinct hosts of the --url list.
inline jobrunner::JobConfig make_config(const options& opt, std::size_t hosts)
{
  jobrunner::JobConfig config;
  config.workers = opt.workers;
  config.work_queue_capacity = opt.queue;
  config.task_timeout = std::chrono::milliseconds(opt.timeout_ms);
  config.retry.max_attempts = opt.retries + 1;
  config.retry.initial_backoff = std::chrono::milliseconds(opt.backoff_ms);
  config.retry.max_backoff = std::chrono::milliseconds(opt.backoff_ms) * 64;
  config.rate_limit.per_second = opt.rate;
  config.rate_limit.burst = opt.rate > 0 ? std::max<std::size_t>(1, opt.workers / 10) : 1;
  if (const auto cap = per_host_cap(opt, hosts); cap > 0 || opt.per_host_rate > 0)
  {
    auto& k = config.per_key; // keyed by host:port (endpoints.hpp)
    k.enabled = true;
    k.max_in_flight = cap;
    k.per_second = opt.per_host_rate;
    k.burst = opt.per_host_rate > 0 ? std::max<std::size_t>(1, opt.workers / 10) : 1;
  }
  config.failure_budget.max_failures = opt.max_failures;
  config.failure_budget.max_failure_ratio = opt.max_failure_ratio;
  config.failure_budget.min_results = 50;
  config.ordered_delivery = opt.ordered;
  config.adaptive_concurrency.enabled = opt.adaptive;
  config.max_pushbacks = opt.max_pushbacks;
  if (opt.retry_budget > 0)
  {
    config.retry_budget.enabled = true;
    config.retry_budget.ratio = opt.retry_budget;
    config.retry_budget.min_per_second = 10;
    config.retry_budget.window = std::chrono::seconds(10);
  }
  if (opt.breaker > 0) // failures: what retryable() retries (network, timeouts, 5xx)
  {
    auto& b = config.circuit_breaker;
    b.enabled = true;
    b.window = 50;
    b.min_calls = 20;
    b.failure_rate = opt.breaker;
    b.open_time = std::chrono::milliseconds(opt.breaker_open_ms);
    b.max_open_time = std::max(b.open_time, std::chrono::nanoseconds(std::chrono::seconds(30)));
    b.probes = 1;
    // A probe may take a whole request timeout.
    b.half_open_time =
        std::chrono::milliseconds(opt.timeout_ms > 0 ? opt.timeout_ms + 5000 : 60000);
    b.give_up_after =
        std::chrono::milliseconds(static_cast<long long>(opt.unavailable_after_s * 1000));
  }
  return config;
}

// A result's status word and error text, as the output writes them.
template <class Result>
std::pair<const char*, std::string> status_of(const Result& r, long timeout_ms)
{
  switch (r.status)
  {
  case jobrunner::task_status::succeeded:
    return {"ok", {}};
  case jobrunner::task_status::failed:
    return {"failed", describe(r.error)};
  case jobrunner::task_status::timed_out:
    return {"timed_out", "no answer within " + std::to_string(timeout_ms) + " ms"};
  case jobrunner::task_status::unavailable:
    return {"unavailable", "not sent: the service is unavailable (the circuit breaker gave up)"};
  case jobrunner::task_status::expired: // deadlines (issue 14): the fetcher sets none
    return {"expired", "the item's total deadline passed"};
  case jobrunner::task_status::expired_in_queue:
    return {"expired", "not sent: waited too long in the queue"};
  case jobrunner::task_status::cancelled:
    break;
  }
  return {"cancelled", r.error ? describe(r.error) : "not sent: the job was stopped"};
}

inline asio::ssl::context make_tls(const options& opt)
{
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_default_verify_paths();
  tls.set_verify_mode(asio::ssl::verify_peer);
  if (!opt.ca_file.empty())
  {
    boost::system::error_code ec;
    tls.load_verify_file(opt.ca_file, ec);
    if (ec)
      bad_option("cannot load --ca-file " + opt.ca_file + ": " + ec.message());
  }
  return tls;
}

} // namespace car_price

#endif
