// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// libFuzzer target: the server's request handling. The bytes go through
// Beast's request parser with the server's limits, then through handle()
// (no faults injected), which must answer every request with a well-formed
// response: 200 with a price for a valid car, 4xx otherwise.
#include "server.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace car_price::server_impl;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  static server s{options{}};
  http::request_parser<http::string_body> parser;
  parser.header_limit(s.opt.max_header);
  parser.body_limit(s.opt.max_body);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done())
    return 0; // the session answers 400/413/431 and closes
  fault f = fault::none;
  std::chrono::milliseconds delay{0};
  auto res = handle(s, parser.get(), f, delay);
  if (f != fault::none || delay != std::chrono::milliseconds(0))
    std::abort(); // no fault is configured
  const auto status = res.result_int();
  if (status != 200 && (status < 400 || status > 499))
    std::abort();
  if (status == 200 && parser.get().target() == "/v1/price")
  {
    auto v = json::parse(res.body());
    if (!v.as_object().at("price").is_number())
      std::abort();
  }
  s.stats.timeline.clear(); // keeps the fuzzer's memory flat
  return 0;
}
