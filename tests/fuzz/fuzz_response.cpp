// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// libFuzzer target: what the fetcher does with bytes from a server. The
// bytes go through Beast's response parser with the client's limits, then
// through interpret(), which must return a sane price or throw one of the
// documented exceptions.
#include "api.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  http::response_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done())
    parser.put_eof(ec);
  if (ec || !parser.is_done())
    return 0; // the client reports the parse error as the row's error
  auto res = parser.release();
  std::optional<std::string_view> retry_after;
  if (auto it = res.find(http::field::retry_after); it != res.end())
    retry_after = it->value();
  try
  {
    auto q = car_price::interpret(res.result_int(), res.body(), retry_after);
    if (!(q.price >= 0 && q.price < 1e12) || q.currency.size() > 8)
      std::abort();
  }
  catch (const jobrunner::retry_after& e)
  {
    if (e.delay() < std::chrono::seconds(0) || e.delay() > std::chrono::hours(1))
      std::abort();
  }
  catch (const car_price::http_status_error&)
  {}
  catch (const car_price::bad_response&)
  {}
  return 0;
}
