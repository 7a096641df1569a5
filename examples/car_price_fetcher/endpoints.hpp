// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_ENDPOINTS_HPP
#define CAR_PRICE_FETCHER_ENDPOINTS_HPP

// Several --url: the endpoints a job spreads its rows over. Each endpoint
// has its own client (its own connection pool); a row goes to the endpoint
// its line number picks (line mod the number of endpoints), so the same
// input sends each row to the same endpoint, run after run and in the
// distributed mode, unless that endpoint is down: a connection to it
// failed (refused, unreachable, no such host) lately. A down endpoint's
// rows go to the next endpoint that is up, for a cooldown of 1 s that
// doubles after each failed try once it is over (up to 30 s) and ends at
// its first success; when every endpoint is down each row goes to its own
// (the circuit breaker then sees the whole service fail). The runner's
// per-key limits key rows by the host:port of the endpoint chosen
// (the fetcher's --per-host, policy.hpp), so that a slow host cannot hold
// every worker; the request then goes where the key said.

#include "http_client.hpp"

#include <boost/asio/ssl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace car_price {

// A host as the per-host limits count it: host and port (two URLs that
// differ only in their path share it).
inline std::string host_key(const url& u)
{
  return u.host + ":" + u.port;
}

// Parses every --url; throws std::invalid_argument (parse_url's words) for
// the first that cannot work, or when there is none.
inline std::vector<url> parse_urls(const std::vector<std::string>& texts)
{
  if (texts.empty())
    throw std::invalid_argument("no --url");
  std::vector<url> urls;
  urls.reserve(texts.size());
  for (const auto& t : texts)
    urls.push_back(parse_url(t));
  return urls;
}

// The number of distinct hosts (host:port) among `urls`.
inline std::size_t distinct_hosts(const std::vector<url>& urls)
{
  std::set<std::string> hosts;
  for (const auto& u : urls)
    hosts.insert(host_key(u));
  return hosts.size();
}

// A connection could not be made at all: the endpoint is down (as opposed
// to a server that answered badly or too slowly).
inline bool cannot_connect(const boost::system::error_code& c)
{
  return c == asio::error::connection_refused || c == asio::error::host_not_found
         || c == asio::error::host_not_found_try_again || c == asio::error::network_unreachable
         || c == asio::error::host_unreachable;
}

class endpoints
{
public:
  // `urls` must not be empty (parse_urls); `tls` is used only for https.
  endpoints(asio::any_io_executor ex, const std::vector<url>& urls, asio::ssl::context* tls)
  {
    for (const auto& u : urls)
    {
      clients_.push_back(std::make_unique<client>(ex, u, tls));
      keys_.push_back(host_key(u));
    }
    health_.resize(clients_.size());
  }

  // Prices one car at the endpoint the key chose for it (key_for, with
  // per-host limits), or else at the one route() picks now; notes whether
  // the endpoint is up.
  asio::awaitable<quote> fetch(const car& c)
  {
    // The key's choice holds for every attempt made under that key (a
    // push-back's re-run, a retry on the worker): the runner counts it there.
    const auto e = c.route != npos ? c.route : route(c.line);
    const auto started = std::chrono::steady_clock::now();
    try
    {
      auto q = co_await clients_[e]->fetch(c);
      health_[e] = {};
      co_return q;
    }
    catch (const boost::system::system_error& x)
    {
      if (cannot_connect(x.code()))
        down(e, started);
      throw;
    }
  }

  // The host:port of the endpoint for `c`, chosen now and kept for its
  // request (the runner's key_by: per-host limits count the host used).
  const std::string& key_for(const car& c)
  {
    c.route = route(c.line);
    return keys_[c.route];
  }

  // The endpoint for the row on `line`: its own, unless that one is down
  // and another is up, then the next one up.
  std::size_t route(std::size_t line) const
  {
    const auto n = clients_.size();
    const auto own = line % n;
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i)
      if (health_[(own + i) % n].down_until <= now)
        return (own + i) % n;
    return own;
  }

  // The distinct hosts, "a:1" or "a:1, b:2", for messages.
  std::string names() const
  {
    std::set<std::string> seen;
    std::string out;
    for (const auto& k : keys_)
      if (seen.insert(k).second)
        out += (out.empty() ? "" : ", ") + k;
    return out;
  }

  std::size_t connections_made() const noexcept
  {
    std::size_t n = 0;
    for (const auto& c : clients_)
      n += c->connections_made();
    return n;
  }
  void trace_to(std::FILE* f) noexcept
  {
    for (auto& c : clients_)
      c->trace_to(f);
  }
  void max_retry_after(std::chrono::seconds cap) noexcept
  {
    for (auto& c : clients_)
      c->max_retry_after(cap);
  }

private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  struct health
  {
    std::chrono::steady_clock::time_point down_until{};
    std::chrono::milliseconds cooldown{0};
  };

  // A connection to `e`, tried from `started`, failed: down for the
  // cooldown, doubled after each failed try that started once the last
  // cooldown was over. A try that started before that (sent before the
  // endpoint was known down, or a slow connect) changes nothing.
  void down(std::size_t e, std::chrono::steady_clock::time_point started)
  {
    auto& h = health_[e];
    const auto now = std::chrono::steady_clock::now();
    if (h.down_until > now || started < h.down_until)
      return;
    h.cooldown = h.cooldown.count() == 0
                     ? std::chrono::milliseconds(1000)
                     : std::min(h.cooldown * 2, std::chrono::milliseconds(30000));
    h.down_until = now + h.cooldown;
  }

  std::vector<std::unique_ptr<client>> clients_;
  std::vector<std::string> keys_;
  std::vector<health> health_;
};

} // namespace car_price

#endif
