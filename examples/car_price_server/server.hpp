// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_SERVER_SERVER_HPP
#define CAR_PRICE_SERVER_SERVER_HPP

// The car-price server: options, request handling with fault injection, and
// the connection and listener coroutines. main.cpp runs it; the fuzz target
// tests/fuzz/fuzz_server_request.cpp drives handle() directly.

#include "../common/cli.hpp"
#include "price_model.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace car_price::server_impl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct options
{
  std::string address = "127.0.0.1";
  unsigned short port = 8080;
  std::string port_file;
  double latency_ms = 0;    // mean added latency
  double jitter_ms = 0;     // +- uniform around the mean
  double error_rate = 0;    // fraction of 500 responses
  double rate_429 = 0;      // fraction of 429 responses with Retry-After
  long max_429 = -1;        // at most this many 429s (-1: no limit)
  int retry_after_s = 1;    // the Retry-After value
  double slow_rate = 0;     // fraction of slow responses
  double slow_ms = 2000;    // how slow
  double drop_rate = 0;     // fraction of connections closed instead of answering
  double garbage_rate = 0;  // fraction of answers that are not HTTP
  double truncate_rate = 0; // fraction of answers cut short of their Content-Length
  double hang_rate = 0;     // fraction of requests never answered
  double huge_rate = 0;     // fraction answered with a 100 kB header or a 1 MiB body
  std::size_t max_connections = 1024;
  std::uint32_t max_header = 8 * 1024;
  std::uint64_t max_body = 16 * 1024;
  std::chrono::seconds idle_timeout{30};
  std::uint64_t seed = 1;
  std::string tls_cert, tls_key; // https when both are set
};

inline void usage(std::FILE* out)
{
  std::fprintf(out, R"(usage: car_price_server [options]

Serves POST /v1/price (see examples/car_price_server/README.md) and GET /health, /stats.

  --address A          address to bind (default 127.0.0.1)
  --port P             port (default 8080; 0 picks a free one)
  --port-file F        write the bound port to F once listening
  --latency-ms M       mean latency added to each answer (default 0)
  --jitter-ms J        latency varies uniformly within +-J (default 0)
  --error-rate X       fraction of requests answered 500 (default 0)
  --rate-429 X         fraction answered 429 with Retry-After (default 0)
  --max-429 N          at most N such 429s in all (default: no limit)
  --retry-after S      the Retry-After seconds of a 429 (default 1)
  --slow-rate X        fraction answered after --slow-ms (default 0)
  --slow-ms M          latency of a slow answer (default 2000)
  --drop-rate X        fraction of requests whose connection is closed unanswered
  --garbage-rate X     fraction answered with bytes that are not HTTP
  --truncate-rate X    fraction answered with a body cut short of its Content-Length
  --hang-rate X        fraction never answered (the connection stays open)
  --huge-rate X        fraction answered with a 100 kB header or a 1 MiB body
  --max-connections N  connections served at once; more get 503 (default 1024)
  --max-header-bytes N request header limit, else 431 (default 8192)
  --max-body-bytes N   request body limit, else 413 (default 16384)
  --idle-timeout S     close a connection idle for S seconds (default 30)
  --seed N             seed of the fault draws (default 1)
  --tls-cert F --tls-key F   serve https with this certificate and key (PEM)
  --help
)");
}

using example_cli::bad_option;

options parse_options(int argc, char** argv)
{
  options o;
  for (int i = 1; i < argc; ++i)
  {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h")
    {
      usage(stdout);
      std::exit(0);
    }
    if (i + 1 >= argc)
      bad_option("unknown option or missing value: " + a);
    const char* v = argv[++i];
    auto num = [&](double lo, double hi) { return example_cli::number(a, v, lo, hi); };
    if (a == "--address")
      o.address = v;
    else if (a == "--port")
      o.port = static_cast<unsigned short>(num(0, 65535));
    else if (a == "--port-file")
      o.port_file = v;
    else if (a == "--latency-ms")
      o.latency_ms = num(0, 3.6e6);
    else if (a == "--jitter-ms")
      o.jitter_ms = num(0, 3.6e6);
    else if (a == "--error-rate")
      o.error_rate = num(0, 1);
    else if (a == "--rate-429")
      o.rate_429 = num(0, 1);
    else if (a == "--max-429")
      o.max_429 = static_cast<long>(num(-1, 1e12));
    else if (a == "--retry-after")
      o.retry_after_s = static_cast<int>(num(0, 86400));
    else if (a == "--slow-rate")
      o.slow_rate = num(0, 1);
    else if (a == "--slow-ms")
      o.slow_ms = num(0, 3.6e6);
    else if (a == "--drop-rate")
      o.drop_rate = num(0, 1);
    else if (a == "--garbage-rate")
      o.garbage_rate = num(0, 1);
    else if (a == "--truncate-rate")
      o.truncate_rate = num(0, 1);
    else if (a == "--hang-rate")
      o.hang_rate = num(0, 1);
    else if (a == "--huge-rate")
      o.huge_rate = num(0, 1);
    else if (a == "--max-connections")
      o.max_connections = static_cast<std::size_t>(num(1, 1e6));
    else if (a == "--max-header-bytes")
      o.max_header = static_cast<std::uint32_t>(num(256, 1 << 24));
    else if (a == "--max-body-bytes")
      o.max_body = static_cast<std::uint64_t>(num(0, 1 << 30));
    else if (a == "--idle-timeout")
      o.idle_timeout = std::chrono::seconds(static_cast<long>(num(1, 86400)));
    else if (a == "--seed")
      o.seed = static_cast<std::uint64_t>(num(0, 1e18));
    else if (a == "--tls-cert")
      o.tls_cert = v;
    else if (a == "--tls-key")
      o.tls_key = v;
    else
      bad_option("unknown option: " + a);
  }
  if (o.tls_cert.empty() != o.tls_key.empty())
    bad_option("--tls-cert and --tls-key go together");
  return o;
}

// What the server counts; GET /stats returns it.
struct counters
{
  std::uint64_t connections = 0, refused = 0, requests = 0, ok = 0, bad_request = 0, errors_500 = 0,
                answers_429 = 0, slow = 0, dropped = 0, garbage = 0, truncated = 0, hung = 0,
                too_large = 0, huge = 0;
  std::size_t open = 0, max_open = 0;
  json::array timeline; // [seconds since start, "req" | "429"] for the first 100,000 events
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void event(const char* what)
  {
    if (timeline.size() < 200000)
    {
      const double t =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      timeline.emplace_back(json::array{t, what});
    }
  }

  json::object to_json() const
  {
    return {{"connections", connections}, {"refused", refused},
            {"requests", requests},       {"ok", ok},
            {"bad_request", bad_request}, {"errors_500", errors_500},
            {"answers_429", answers_429}, {"slow", slow},
            {"dropped", dropped},         {"garbage", garbage},
            {"truncated", truncated},     {"hung", hung},
            {"too_large", too_large},     {"huge", huge},
            {"open_connections", open},   {"max_open_connections", max_open},
            {"timeline", timeline}};
  }
};

struct server
{
  options opt;
  counters stats;
  std::mt19937_64 rng;
  std::optional<ssl::context> tls;

  explicit server(options o) : opt(std::move(o)), rng(opt.seed) {}

  double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }
};

enum class fault
{
  none,
  error_500,
  answer_429,
  drop,
  garbage,
  truncate,
  hang,
  huge
};

using response = http::response<http::string_body>;

inline response make_response(http::status status, bool keep_alive, json::value body,
                              unsigned version)
{
  response res{status, version};
  res.set(http::field::server, "car_price_server");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = json::serialize(body);
  res.prepare_payload();
  return res;
}

inline json::value error_body(std::string_view message)
{
  return json::object{{"error", message}};
}

// Reads and checks the request body: {"make", "model", "year", "mileage"}.
inline std::optional<json::object> parse_car(std::string_view body, std::string& why)
{
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object())
  {
    why = "the body is not a JSON object";
    return std::nullopt;
  }
  auto& o = v.as_object();
  for (const char* key : {"make", "model"})
    if (!o.contains(key) || !o.at(key).is_string() || o.at(key).as_string().empty())
    {
      why = std::string("\"") + key + "\" must be a non-empty string";
      return std::nullopt;
    }
  for (const char* key : {"year", "mileage"})
    if (!o.contains(key) || !o.at(key).is_int64())
    {
      why = std::string("\"") + key + "\" must be an integer";
      return std::nullopt;
    }
  const auto year = o.at("year").as_int64();
  const auto mileage = o.at("mileage").as_int64();
  if (year < 1886 || year > car_price::model_year_now + 1)
  {
    why = "\"year\" is out of range";
    return std::nullopt;
  }
  if (mileage < 0 || mileage > 10'000'000)
  {
    why = "\"mileage\" is out of range";
    return std::nullopt;
  }
  return std::move(o);
}

// Handles one request. Returns the response, or no response when a fault
// says the connection must be dropped, hung or fed garbage (`f` says which).
inline response handle(server& s, const http::request<http::string_body>& req, fault& f,
                       std::chrono::milliseconds& delay)
{
  const bool keep = req.keep_alive();
  const unsigned version = req.version();
  f = fault::none;
  delay = 0ms;
  if (req.target() == "/health" && req.method() == http::verb::get)
    return make_response(http::status::ok, keep, json::object{{"status", "ok"}}, version);
  if (req.target() == "/stats" && req.method() == http::verb::get)
    return make_response(http::status::ok, keep, s.stats.to_json(), version);
  if (req.target() != "/v1/price")
    return make_response(http::status::not_found, keep, error_body("no such resource"), version);
  if (req.method() != http::verb::post)
  {
    auto res =
        make_response(http::status::method_not_allowed, keep, error_body("use POST"), version);
    res.set(http::field::allow, "POST");
    return res;
  }

  ++s.stats.requests;
  s.stats.event("req");
  // Faults first, in a fixed order of draws, so that a seed replays a run.
  const double r = s.draw();
  double edge = 0;
  auto hit = [&](double rate) { return rate > 0 && r < (edge += rate); };
  if (hit(s.opt.drop_rate))
    f = fault::drop;
  else if (hit(s.opt.garbage_rate))
    f = fault::garbage;
  else if (hit(s.opt.truncate_rate))
    f = fault::truncate;
  else if (hit(s.opt.hang_rate))
    f = fault::hang;
  else if (hit(s.opt.huge_rate))
    f = fault::huge;
  else if (hit(s.opt.error_rate))
    f = fault::error_500;
  else if (hit(s.opt.rate_429)
           && (s.opt.max_429 < 0 || static_cast<long>(s.stats.answers_429) < s.opt.max_429))
    f = fault::answer_429;

  double ms = s.opt.latency_ms;
  if (s.opt.jitter_ms > 0)
    ms += (s.draw() * 2 - 1) * s.opt.jitter_ms;
  if (s.opt.slow_rate > 0 && s.draw() < s.opt.slow_rate)
  {
    ms = s.opt.slow_ms;
    ++s.stats.slow;
  }
  delay = std::chrono::milliseconds(static_cast<long>(std::max(0.0, ms)));

  switch (f)
  {
  case fault::error_500:
    ++s.stats.errors_500;
    return make_response(http::status::internal_server_error, keep,
                         error_body("injected server error"), version);
  case fault::answer_429:
  {
    ++s.stats.answers_429;
    s.stats.event("429");
    auto res =
        make_response(http::status::too_many_requests, keep, error_body("slow down"), version);
    res.set(http::field::retry_after, std::to_string(s.opt.retry_after_s));
    return res;
  }
  case fault::none:
    break;
  default:
    return {}; // the session acts on f
  }

  std::string why;
  auto car = parse_car(req.body(), why);
  if (!car)
  {
    ++s.stats.bad_request;
    return make_response(http::status::bad_request, keep, error_body(why), version);
  }
  const auto& o = *car;
  const double p = car_price::price(o.at("make").as_string(), o.at("model").as_string(),
                                    static_cast<int>(o.at("year").as_int64()),
                                    static_cast<long>(o.at("mileage").as_int64()));
  ++s.stats.ok;
  return make_response(http::status::ok, keep,
                       json::object{{"make", o.at("make")},
                                    {"model", o.at("model")},
                                    {"year", o.at("year")},
                                    {"mileage", o.at("mileage")},
                                    {"price", p},
                                    {"currency", "USD"}},
                       version);
}

inline beast::tcp_stream& lowest(beast::tcp_stream& s)
{
  return s;
}
inline beast::tcp_stream& lowest(beast::ssl_stream<beast::tcp_stream>& s)
{
  return s.next_layer();
}

template <class Stream>
asio::awaitable<void> serve(server& s, Stream& stream)
{
  beast::flat_buffer buffer;
  for (;;)
  {
    http::request_parser<http::string_body> parser;
    parser.header_limit(s.opt.max_header);
    parser.body_limit(s.opt.max_body);
    lowest(stream).expires_after(s.opt.idle_timeout);
    auto [ec, n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec == http::error::header_limit || ec == http::error::body_limit)
    {
      ++s.stats.too_large;
      auto status = ec == http::error::header_limit ? http::status::request_header_fields_too_large
                                                    : http::status::payload_too_large;
      auto res = make_response(status, false, error_body(ec.message()), 11);
      lowest(stream).expires_after(5s);
      co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof
        || ec == asio::error::connection_reset)
      co_return;
    if (ec)
    {
      ++s.stats.bad_request;
      auto res = make_response(http::status::bad_request, false, error_body(ec.message()), 11);
      lowest(stream).expires_after(5s);
      co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      co_return;
    }

    fault f = fault::none;
    std::chrono::milliseconds delay{0};
    auto res = handle(s, parser.get(), f, delay);
    if (delay > 0ms)
    {
      asio::steady_timer t(co_await asio::this_coro::executor, delay);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    lowest(stream).expires_after(s.opt.idle_timeout);
    switch (f)
    {
    case fault::drop:
      ++s.stats.dropped;
      co_return; // closes the connection unanswered
    case fault::hang:
    {
      ++s.stats.hung;
      // Never answers; waits for the client to give up (or the idle timeout).
      char byte = 0;
      co_await lowest(stream).async_read_some(asio::buffer(&byte, 1),
                                              asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    case fault::garbage:
    {
      ++s.stats.garbage;
      std::string junk(64 + s.rng() % 512, '\0');
      for (auto& c : junk)
        c = static_cast<char>(s.rng() % 256);
      co_await asio::async_write(stream, asio::buffer(junk), asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    case fault::truncate:
    {
      ++s.stats.truncated;
      std::string partial = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: 120\r\n\r\n{\"price\": 1";
      co_await asio::async_write(stream, asio::buffer(partial),
                                 asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    case fault::huge:
    {
      // A valid response, far above any sane client's limits.
      ++s.stats.huge;
      response big{http::status::ok, 11};
      if (s.stats.huge % 2 == 0)
      {
        // Five fields of 20 KiB: Beast refuses a field value over 64 KiB
        // (one 100 kB field threw, and the connection closed unanswered).
        for (int i = 1; i <= 5; ++i)
          big.set("X-Padding-" + std::to_string(i), std::string(20 * 1024, 'a'));
      }
      else
        big.body() = std::string(1024 * 1024, ' ');
      big.keep_alive(false);
      big.prepare_payload();
      co_await http::async_write(stream, big, asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    default:
      break;
    }
    const bool keep = res.keep_alive();
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    (void)wn;
    if (wec || !keep)
      co_return;
  }
}

inline asio::awaitable<void> session(server& s, tcp::socket socket)
{
  ++s.stats.connections;
  s.stats.max_open = std::max(s.stats.max_open, ++s.stats.open);
  struct closing
  {
    server& s;
    ~closing() { --s.stats.open; }
  } guard{s};
  beast::tcp_stream stream(std::move(socket));
  if (s.stats.open > s.opt.max_connections)
  {
    ++s.stats.refused;
    auto res = make_response(http::status::service_unavailable, false,
                             error_body("too many connections"), 11);
    stream.expires_after(5s);
    co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  if (!s.tls)
  {
    co_await serve(s, stream);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *s.tls);
  tls_stream.next_layer().expires_after(10s);
  auto [ec] = co_await tls_stream.async_handshake(ssl::stream_base::server,
                                                  asio::as_tuple(asio::use_awaitable));
  if (ec)
    co_return;
  co_await serve(s, tls_stream);
  tls_stream.next_layer().expires_after(2s);
  co_await tls_stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

inline asio::awaitable<void> listen(server& s, tcp::acceptor& acceptor)
{
  for (;;)
  {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted)
      co_return;
    if (ec)
      continue; // e.g. too many open files: keep serving the others
    asio::co_spawn(acceptor.get_executor(), session(s, std::move(socket)),
                   [](std::exception_ptr e) {
                     if (e)
                     {
                       try
                       {
                         std::rethrow_exception(e);
                       }
                       catch (const std::exception& x)
                       {
                         std::fprintf(stderr, "car_price_server: session: %s\n", x.what());
                       }
                     }
                   });
  }
}

} // namespace car_price::server_impl

#endif
