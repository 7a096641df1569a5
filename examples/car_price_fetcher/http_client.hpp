// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_HTTP_CLIENT_HPP
#define CAR_PRICE_FETCHER_HTTP_CLIENT_HPP

// An HTTP/1.1 client for the car-price API on Boost.Beast: http:// and
// https:// (OpenSSL, certificate and host name verified), keep-alive
// connections kept in an idle pool (so at most one per worker in use, and
// reused by the next task), one fresh-connection retry when a reused
// connection turns out to be closed by the server. A task's cancellation
// (the runner's per-task timeout, or a cancel) reaches the socket
// operation through the coroutine's cancellation slot; the connection is
// then dropped.

#include "api.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace car_price {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct url
{
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

// http[s]://host[:port][/path]; throws std::invalid_argument when the URL
// cannot work: another scheme, no host or one with characters a host
// name or address cannot hold, a port that is not a number in 1-65535.
inline url parse_url(const std::string& text)
{
  url u;
  std::string rest;
  if (text.rfind("http://", 0) == 0)
    rest = text.substr(7);
  else if (text.rfind("https://", 0) == 0)
  {
    u.tls = true;
    rest = text.substr(8);
  }
  else
    throw std::invalid_argument("the URL must start with http:// or https://: " + text);
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/v1/price" : rest.substr(slash);
  std::string port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[')
  {
    const auto close = authority.find(']');
    if (close == std::string::npos)
      throw std::invalid_argument("the URL's host has no closing ]: " + text);
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size())
    {
      if (authority[close + 1] != ':')
        throw std::invalid_argument("the URL has text after its host: " + text);
      has_port = true;
      port_text = authority.substr(close + 2);
    }
    for (char c : u.host)
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'))
        throw std::invalid_argument("the URL's host is not an IPv6 address: " + text);
  }
  else
  {
    const auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos)
    {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    for (char c : u.host)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
        throw std::invalid_argument("the URL's host holds a character a host name cannot ('"
                                    + std::string(1, c) + "'): " + text);
  }
  if (u.host.empty())
    throw std::invalid_argument("the URL has no host: " + text);
  if (has_port)
  {
    unsigned port = 0;
    const auto* first = port_text.data();
    const auto* last = first + port_text.size();
    auto [ptr, ec] = std::from_chars(first, last, port);
    if (port_text.empty() || ec != std::errc() || ptr != last || port == 0 || port > 65535)
      throw std::invalid_argument("the URL's port must be a number from 1 to 65535, not '"
                                  + port_text + "': " + text);
    u.port = port_text;
  }
  else
    u.port = u.tls ? "443" : "80";
  return u;
}

class client
{
public:
  // `tls` is used only for https URLs.
  client(asio::any_io_executor ex, url u, asio::ssl::context* tls)
      : executor_(std::move(ex)), url_(std::move(u)), tls_(tls)
  {}

  // Prices one car: one request, on a pooled connection.
  asio::awaitable<quote> fetch(const car& c)
  {
    http::request<http::string_body> req{http::verb::post, url_.target, 11};
    req.set(http::field::host, url_.host);
    req.set(http::field::user_agent, "car_price_fetcher (jobrunner)");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);
    req.body() = request_body(c);
    req.prepare_payload();
    trace("start", c.line);

    for (int round = 0;; ++round)
    {
      std::unique_ptr<connection> conn = take();
      const bool reused = conn->used;
      if (!reused)
        co_await connect(*conn);
      http::response<http::string_body> res;
      trace("send", c.line);
      try
      {
        // (An if, not ?: : g++ 12 miscompiles co_await in a conditional
        // expression.)
        if (conn->tls)
          res = co_await exchange(*conn->tls, conn->buffer, req);
        else
          res = co_await exchange(*conn->plain, conn->buffer, req);
      }
      catch (const boost::system::system_error& e)
      {
        // The server may close an idle keep-alive connection at any time:
        // a reused connection that fails gets one retry on a fresh one.
        if (reused && round == 0 && e.code() != asio::error::operation_aborted)
          continue;
        throw;
      }
      conn->used = true;
      trace("answer", c.line, res.result_int());
      const bool keep = res.keep_alive();
      std::optional<std::string_view> retry_after;
      if (auto it = res.find(http::field::retry_after); it != res.end())
        retry_after = it->value();
      auto q = interpret(res.result_int(), res.body(), retry_after, max_retry_after_);
      if (keep)
        give_back(std::move(conn));
      co_return q;
    }
  }

  std::size_t connections_made() const noexcept { return connections_made_; }

  // --trace: one line per request event, "<steady-clock ns> <event> <input
  // line> <HTTP status>", events start (the task began), send (the request
  // is written, on a connection made or reused), answer (with its status).
  void trace_to(std::FILE* f) noexcept { trace_ = f; }

  // Called with each connection attempt's outcome (name resolution and TCP
  // connect; not when cancelled): where a circuit breaker would listen.
  void on_connect(std::function<void(const boost::system::error_code&)> f)
  {
    on_connect_ = std::move(f);
  }

  // The longest Retry-After obeyed; a longer one is cut to it.
  void max_retry_after(std::chrono::seconds cap) noexcept { max_retry_after_ = cap; }

private:
  void report_connect(const boost::system::error_code& ec)
  {
    if (on_connect_ && ec != asio::error::operation_aborted)
      on_connect_(ec);
  }

  void trace(const char* event, std::size_t line, unsigned status = 0)
  {
    if (trace_ == nullptr)
      return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
    std::fprintf(trace_, "%lld %s %zu %u\n", static_cast<long long>(ns), event, line, status);
  }

  struct connection
  {
    std::optional<tcp::socket> plain;
    std::optional<asio::ssl::stream<tcp::socket>> tls;
    beast::flat_buffer buffer;
    bool used = false;
  };

  std::unique_ptr<connection> take()
  {
    if (!idle_.empty())
    {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    return std::make_unique<connection>();
  }

  void give_back(std::unique_ptr<connection> c)
  {
    if (idle_.size() < 1024)
      idle_.push_back(std::move(c));
  }

  asio::awaitable<void> connect(connection& c)
  {
    if (!resolved_)
    {
      tcp::resolver resolver(executor_);
      auto [ec, results] = co_await resolver.async_resolve(url_.host, url_.port,
                                                           asio::as_tuple(asio::use_awaitable));
      report_connect(ec);
      if (ec)
        throw boost::system::system_error(ec);
      resolved_ = std::move(results);
    }
    ++connections_made_;
    tcp::socket* socket = nullptr;
    if (!url_.tls)
      socket = &c.plain.emplace(executor_);
    else
      socket = &c.tls.emplace(executor_, *tls_).next_layer();
    auto [ec, endpoint] =
        co_await asio::async_connect(*socket, *resolved_, asio::as_tuple(asio::use_awaitable));
    report_connect(ec);
    if (ec)
      throw boost::system::system_error(ec);
    socket->set_option(tcp::no_delay(true));
    if (!url_.tls)
      co_return;
    if (!SSL_set_tlsext_host_name(c.tls->native_handle(), url_.host.c_str()))
      throw boost::system::system_error(
          boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                    asio::error::get_ssl_category()),
          "TLS server name");
    c.tls->set_verify_callback(asio::ssl::host_name_verification(url_.host));
    co_await c.tls->async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  }

  template <class Stream>
  static asio::awaitable<http::response<http::string_body>>
  exchange(Stream& stream, beast::flat_buffer& buffer, http::request<http::string_body>& req)
  {
    co_await http::async_write(stream, req, asio::use_awaitable);
    http::response_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
    co_return parser.release();
  }

  asio::any_io_executor executor_;
  url url_;
  asio::ssl::context* tls_;
  std::optional<tcp::resolver::results_type> resolved_;
  std::vector<std::unique_ptr<connection>> idle_;
  std::size_t connections_made_ = 0;
  std::FILE* trace_ = nullptr;
  std::chrono::seconds max_retry_after_{3600};
  std::function<void(const boost::system::error_code&)> on_connect_;
};

} // namespace car_price

#endif
