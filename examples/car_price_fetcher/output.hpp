// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_OUTPUT_HPP
#define CAR_PRICE_FETCHER_OUTPUT_HPP

// The fetcher's output: one line per input row, CSV or JSON Lines, with
// the row's status, price or error. Text that is not UTF-8 is escaped
// (\xNN), so every line is valid UTF-8 and every JSON line valid JSON.
// Ordered (--ordered): the caller reserves each row's place when it reads
// it; a line is written once every earlier row's line is.

#include "api.hpp"
#include "csv.hpp"
#include "output_file.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace car_price {

class writer
{
public:
  writer(output_file& out, bool jsonl, bool ordered) : out_(out), jsonl_(jsonl), ordered_(ordered)
  {
    if (!jsonl_)
      out_.write("line,make,model,year,mileage,status,price,currency,attempts,error\n");
  }

  // --ordered: the row on `line` comes next in the input (call in input order).
  void reserve(std::size_t line)
  {
    if (ordered_)
      slots_.emplace_back(line, std::nullopt);
  }

  void priced(const car& c, const char* status, const quote* q, unsigned attempts,
              const std::string& error)
  {
    if (jsonl_)
    {
      boost::json::object o{{"line", c.line},
                            {"make", printable_utf8(c.make)},
                            {"model", printable_utf8(c.model)},
                            {"year", c.year},
                            {"mileage", c.mileage},
                            {"status", status},
                            {"attempts", attempts}};
      if (q != nullptr)
        o["currency"] = printable_utf8(q->currency);
      else
        o["error"] = printable_utf8(error);
      auto text = boost::json::serialize(o);
      if (q != nullptr)
      {
        // Cents, not the serializer's shortest form (1.994701E4).
        char price[64];
        std::snprintf(price, sizeof price, ",\"price\":%.2f}", q->price);
        text.pop_back();
        text += price;
      }
      emit(c.line, text + '\n');
      return;
    }
    char price[64] = "";
    if (q != nullptr)
      std::snprintf(price, sizeof price, "%.2f", q->price);
    emit(c.line, std::to_string(c.line) + ',' + quoted(c.make) + ',' + quoted(c.model) + ','
                     + std::to_string(c.year) + ',' + std::to_string(c.mileage) + ',' + status + ','
                     + price + ',' + (q != nullptr ? quoted(q->currency) : std::string()) + ','
                     + std::to_string(attempts) + ',' + quoted(error) + '\n');
  }

  void invalid(const bad_row& b)
  {
    if (jsonl_)
    {
      emit(b.line, boost::json::serialize(boost::json::object{{"line", b.line},
                                                              {"status", "invalid"},
                                                              {"attempts", 0},
                                                              {"row", printable_utf8(b.text)},
                                                              {"error", printable_utf8(b.error)}})
                       + '\n');
      return;
    }
    emit(b.line,
         std::to_string(b.line) + ",,,,,invalid,,,0," + quoted(b.error + ": " + b.text) + '\n');
  }

  // Rows reserved whose line is not written yet (--ordered).
  std::size_t held() const noexcept { return slots_.size(); }

  bool failed() const noexcept { return out_.failed(); }
  const std::string& error() const noexcept { return out_.error(); }
  // Whether a failure leaves an existing output file as it was.
  bool replaces() const noexcept { return out_.replaces(); }

  // Writes everything out and puts the output in place (output_file::commit).
  bool close() { return out_.commit(); }

private:
  void emit(std::size_t line, std::string text)
  {
    if (!ordered_)
    {
      out_.write(text);
      return;
    }
    auto it = std::lower_bound(slots_.begin(), slots_.end(), line,
                               [](const auto& slot, std::size_t l) { return slot.first < l; });
    if (it == slots_.end() || it->first != line)
    {
      out_.write(text); // not reserved: a caller's mistake, but never lose a row
      return;
    }
    it->second = std::move(text);
    while (!slots_.empty() && slots_.front().second)
    {
      out_.write(*slots_.front().second);
      slots_.pop_front();
    }
  }

  static std::string quoted(const std::string& raw)
  {
    const auto s = printable_utf8(raw);
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

  output_file& out_;
  bool jsonl_;
  bool ordered_;
  // --ordered: the rows read whose line is not written yet, in input order.
  std::deque<std::pair<std::size_t, std::optional<std::string>>> slots_;
};

// The output could not be written (writer::close failed): says why and
// what became of the output file, and returns exit status 4. Never a
// summary of rows that are not in the output.
inline int report_unsaved(const writer& results)
{
  std::fprintf(stderr,
               "car_price_fetcher: %s\n"
               "car_price_fetcher: stopped: the results were not saved (%s)\n",
               results.error().c_str(),
               results.replaces() ? "the output file is left as it was"
                                  : "the output is incomplete");
  return 4;
}

} // namespace car_price

#endif
