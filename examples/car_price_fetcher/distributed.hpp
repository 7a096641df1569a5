// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_DISTRIBUTED_HPP
#define CAR_PRICE_FETCHER_DISTRIBUTED_HPP

// The fetcher's distributed mode (--redis): cars and results travel as JSON
// through Redis Streams (jobrunner/redis/stream_job.hpp). One submitter
// writes the cars and collects the results; any number of workers, on any
// hosts, price them.

#include <jobrunner/redis/stream_job.hpp>

#include "api.hpp"
#include "csv.hpp"

#include <boost/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace car_price {

namespace json = boost::json;

inline std::string encode_car(const car& c)
{
  return json::serialize(json::object{{"line", c.line},
                                      {"make", c.make},
                                      {"model", c.model},
                                      {"year", c.year},
                                      {"mileage", c.mileage}});
}

// A car back from the stream; a malformed entry becomes a car the API
// rejects (so it still gets a result, as an error).
inline car decode_car(const std::string& text)
{
  car c;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return c;
  const auto& o = v.as_object();
  auto str = [&](const char* k) {
    const auto* p = o.if_contains(k);
    return p && p->is_string() ? std::string(p->as_string()) : std::string();
  };
  auto num = [&](const char* k) {
    const auto* p = o.if_contains(k);
    return p && p->is_int64() ? p->as_int64() : std::int64_t{0};
  };
  c.line = static_cast<std::size_t>(num("line"));
  c.make = str("make");
  c.model = str("model");
  c.year = static_cast<int>(num("year"));
  c.mileage = static_cast<long>(num("mileage"));
  return c;
}

// One result, as the worker writes it to the result stream.
inline std::string encode_outcome(const car& c, const char* status, const quote* q,
                                  unsigned attempts, const std::string& error)
{
  json::object o{{"car", json::parse(encode_car(c))}, {"status", status}, {"attempts", attempts}};
  if (q != nullptr)
  {
    o["price"] = q->price;
    o["currency"] = q->currency;
  }
  else
    o["error"] = error;
  return json::serialize(o);
}

struct outcome
{
  car c;
  std::string status;
  std::optional<quote> q;
  unsigned attempts = 0;
  std::string error;
};

inline outcome decode_outcome(const std::string& text)
{
  outcome out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
  {
    out.status = "failed";
    out.error = "malformed result in the result stream";
    return out;
  }
  const auto& o = v.as_object();
  if (const auto* c = o.if_contains("car"))
    out.c = decode_car(json::serialize(*c));
  if (const auto* s = o.if_contains("status"); s && s->is_string())
    out.status = std::string(s->as_string());
  if (const auto* a = o.if_contains("attempts"); a && a->is_int64())
    out.attempts = static_cast<unsigned>(a->as_int64());
  if (const auto* p = o.if_contains("price"); p && p->is_number())
  {
    quote q;
    q.price = p->to_number<double>();
    if (const auto* cur = o.if_contains("currency"); cur && cur->is_string())
      q.currency = std::string(cur->as_string());
    out.q = q;
  }
  if (const auto* e = o.if_contains("error"); e && e->is_string())
    out.error = std::string(e->as_string());
  return out;
}

} // namespace car_price

#endif
