// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_ENDPOINTS_HPP
#define CAR_PRICE_FETCHER_ENDPOINTS_HPP

// Several --url: the endpoints a job spreads its rows over. Each endpoint
// has its own client (its own connection pool); a row goes to the endpoint
// its line number picks (line mod the number of endpoints), so the same
// input sends each row to the same endpoint, run after run and in the
// distributed mode. The runner's per-key limits key rows by their
// endpoint's host:port (the fetcher's --per-host, policy.hpp), so that a
// slow host cannot hold every worker.

#include "http_client.hpp"

#include <boost/asio/ssl.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
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
  }

  // The client and the host key of the row on `line`.
  client& for_line(std::size_t line) { return *clients_[line % clients_.size()]; }
  const std::string& key_for_line(std::size_t line) const { return keys_[line % keys_.size()]; }

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
  std::vector<std::unique_ptr<client>> clients_;
  std::vector<std::string> keys_;
};

} // namespace car_price

#endif
