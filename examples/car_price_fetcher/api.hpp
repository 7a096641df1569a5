// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_API_HPP
#define CAR_PRICE_FETCHER_API_HPP

// The car-price API contract, client side (documented in
// examples/car_price_server/README.md): the request body for a car, and
// what a response means (a price, a retryable error, a push-back, or a
// final error).

#include <jobrunner/retry_after.hpp>

#include "csv.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace car_price {

struct quote
{
  double price = 0;
  std::string currency;
};

// A response other than 200 (and other than 429/503 with Retry-After).
class http_status_error : public std::runtime_error
{
public:
  http_status_error(unsigned status, const std::string& what)
      : std::runtime_error(what), status_(status)
  {}
  unsigned status() const noexcept { return status_; }
  bool server_side() const noexcept { return status_ >= 500; }

private:
  unsigned status_;
};

// A 200 whose body is not the documented JSON: not retryable.
class bad_response : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

inline std::string request_body(const car& c)
{
  return boost::json::serialize(boost::json::object{
      {"make", c.make}, {"model", c.model}, {"year", c.year}, {"mileage", c.mileage}});
}

// Retry-After as delay-seconds (an HTTP date, or nothing usable, counts as
// one second), capped at `cap` (the fetcher's --max-retry-after).
inline std::chrono::seconds parse_retry_after(std::string_view value,
                                              std::chrono::seconds cap = std::chrono::seconds(3600))
{
  long seconds = 0;
  if (!parse_int(value, seconds) || seconds < 0)
    return std::min(std::chrono::seconds(1), cap);
  return std::chrono::seconds(std::min<long>(seconds, static_cast<long>(cap.count())));
}

// What a response means. Throws jobrunner::retry_after for 429 (and for a
// 503 with Retry-After), http_status_error for another non-200,
// bad_response for a 200 that is not a price.
inline quote interpret(unsigned status, std::string_view body,
                       std::optional<std::string_view> retry_after_header,
                       std::chrono::seconds max_retry_after = std::chrono::seconds(3600))
{
  if (status == 429 || (status == 503 && retry_after_header))
    throw jobrunner::retry_after(parse_retry_after(
        retry_after_header ? *retry_after_header : std::string_view{}, max_retry_after));
  if (status != 200)
  {
    std::string message = "HTTP " + std::to_string(status);
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (!ec && v.is_object() && v.as_object().contains("error")
        && v.as_object().at("error").is_string())
      message += ": " + std::string(v.as_object().at("error").as_string());
    throw http_status_error(status, message);
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object())
    throw bad_response("the response is not a JSON object");
  const auto& o = v.as_object();
  const auto* price = o.if_contains("price");
  if (price == nullptr || !(price->is_double() || price->is_int64() || price->is_uint64()))
    throw bad_response("the response has no numeric \"price\"");
  quote q;
  q.price = price->to_number<double>();
  if (!(q.price >= 0 && q.price < 1e12))
    throw bad_response("the price is out of range");
  const auto* currency = o.if_contains("currency");
  q.currency = currency != nullptr && currency->is_string()
                   ? std::string(std::string_view(currency->as_string()).substr(0, 8))
                   : std::string("USD");
  return q;
}

} // namespace car_price

#endif
