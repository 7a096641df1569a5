// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// HTTP GET of a list of URLs with Beast, 8 at a time, results written in input
// order: jobrunner::async_map. Usage: http_get URL... (http://host[:port]/path)
#include <jobrunner/jobrunner.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct Response
{
  unsigned status = 0;
  std::size_t bytes = 0;
};

// One GET on a connection of its own; throws on a bad URL or a network error.
asio::awaitable<Response> get(const std::string& url)
{
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("only http:// URLs");
  const auto slash = url.find('/', scheme.size());
  const std::string authority = url.substr(scheme.size(), slash - scheme.size());
  const std::string target = slash == std::string::npos ? "/" : url.substr(slash);
  const auto colon = authority.find(':');
  const std::string host = authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);

  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  beast::tcp_stream stream(ex);
  stream.expires_after(std::chrono::seconds(10));
  auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);
  co_await stream.async_connect(endpoints, asio::use_awaitable);
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, authority);
  req.set(http::field::user_agent, "jobrunner-http-get");
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  co_await http::async_read(stream, buffer, res, asio::use_awaitable);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  co_return Response{res.result_int(), res.body().size()};
}

int main(int argc, char** argv)
{
  std::vector<std::string> urls(argv + 1, argv + argc);
  if (urls.empty())
  {
    std::fprintf(stderr, "usage: http_get URL...\n");
    return 2;
  }
  asio::io_context io;
  jobrunner::JobConfig config;
  config.workers = 8;                             // at most 8 requests at once
  config.task_timeout = std::chrono::seconds(20); // and none hangs

  int failures = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [ec, results] = co_await jobrunner::async_map(
            io.get_executor(), urls, [](std::string& url) { return get(url); }, config,
            asio::as_tuple(asio::use_awaitable));
        for (auto& r : results) // in input order
        {
          if (r.ok())
            std::printf("%u %zu %s\n", r.value->status, r.value->bytes, r.item.c_str());
          else
          {
            ++failures;
            std::string why = "timed out";
            try
            {
              if (r.error)
                std::rethrow_exception(r.error);
            }
            catch (const std::exception& e)
            {
              why = e.what();
            }
            std::printf("error %s: %s\n", r.item.c_str(), why.c_str());
          }
        }
        if (ec)
          ++failures;
      },
      [](std::exception_ptr e) {
        if (e)
          std::rethrow_exception(e);
      });
  io.run();
  return failures == 0 ? 0 : 1;
}
