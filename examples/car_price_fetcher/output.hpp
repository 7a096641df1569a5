// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_OUTPUT_HPP
#define CAR_PRICE_FETCHER_OUTPUT_HPP

// The fetcher's output: one line per input row, CSV or JSON Lines, with
// the row's status, price or error.

#include "api.hpp"
#include "csv.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <ostream>
#include <string>

namespace car_price {

// One output line per input row, CSV or JSON Lines.
class writer
{
public:
  writer(std::ostream& out, bool jsonl) : out_(out), jsonl_(jsonl)
  {
    if (!jsonl_)
      out_ << "line,make,model,year,mileage,status,price,currency,attempts,error\n";
  }

  void priced(const car& c, const char* status, const quote* q, unsigned attempts,
              const std::string& error)
  {
    if (jsonl_)
    {
      boost::json::object o{{"line", c.line},      {"make", c.make},       {"model", c.model},
                            {"year", c.year},      {"mileage", c.mileage}, {"status", status},
                            {"attempts", attempts}};
      if (q != nullptr)
        o["currency"] = q->currency;
      else
        o["error"] = error;
      auto text = boost::json::serialize(o);
      if (q != nullptr)
      {
        // Cents, not the serializer's shortest form (1.994701E4).
        char price[64];
        std::snprintf(price, sizeof price, ",\"price\":%.2f}", q->price);
        text.pop_back();
        text += price;
      }
      out_ << text << '\n';
      return;
    }
    char price[64] = "";
    if (q != nullptr)
      std::snprintf(price, sizeof price, "%.2f", q->price);
    out_ << c.line << ',' << quoted(c.make) << ',' << quoted(c.model) << ',' << c.year << ','
         << c.mileage << ',' << status << ',' << price << ','
         << (q != nullptr ? quoted(q->currency) : std::string()) << ',' << attempts << ','
         << quoted(error) << '\n';
  }

  void invalid(const bad_row& b)
  {
    if (jsonl_)
    {
      out_ << boost::json::serialize(boost::json::object{{"line", b.line},
                                                         {"status", "invalid"},
                                                         {"attempts", 0},
                                                         {"row", b.text},
                                                         {"error", b.error}})
           << '\n';
      return;
    }
    out_ << b.line << ",,,,,invalid,,,0," << quoted(b.error + ": " + b.text) << '\n';
  }

  void flush() { out_.flush(); }

private:
  static std::string quoted(const std::string& s)
  {
    if (s.find_first_of(",\"\n\r") == std::string::npos)
      return s;
    std::string q = "\"";
    for (char ch : s)
    {
      if (ch == '"')
        q += '"';
      q += ch;
    }
    return q + '"';
  }

  std::ostream& out_;
  bool jsonl_;
};

} // namespace car_price

#endif
