// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_CSV_HPP
#define CAR_PRICE_FETCHER_CSV_HPP

// The fetcher's input: a CSV file with a header naming at least the columns
// make, model, year and mileage (any order, any case, other columns
// ignored). Fields may be quoted ("..." with "" for a quote, line breaks
// inside quotes: see input.hpp). A row that cannot be read is reported with its line number, never
// fatal.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace car_price {

struct car
{
  std::size_t line = 0; // 1-based line number in the input
  std::string make;
  std::string model;
  int year = 0;
  long mileage = 0;
  // The endpoint the per-host key chose for this row (endpoints.hpp), kept
  // for the request that follows; npos: none chosen.
  mutable std::size_t route = static_cast<std::size_t>(-1);
};

struct bad_row
{
  std::size_t line = 0;
  std::string text;  // the row as read (for the output)
  std::string error; // why it was rejected
};

// Splits one CSV record. Returns false (with `error`) on an unterminated
// quote or text after a closing quote.
inline bool split_csv(std::string_view line, std::vector<std::string>& fields, std::string& error)
{
  fields.clear();
  std::string field;
  std::size_t i = 0;
  for (;;)
  {
    field.clear();
    if (i < line.size() && line[i] == '"')
    {
      ++i;
      for (;;)
      {
        if (i >= line.size())
        {
          error = "unterminated quoted field";
          return false;
        }
        if (line[i] == '"')
        {
          if (i + 1 < line.size() && line[i + 1] == '"')
          {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      if (i < line.size() && line[i] != ',')
      {
        error = "text after a closing quote";
        return false;
      }
    }
    else
    {
      while (i < line.size() && line[i] != ',')
        field += line[i++];
    }
    fields.push_back(field);
    if (i >= line.size())
      return true;
    ++i; // the comma
  }
}

// The length of the valid UTF-8 sequence at s[i], or 0 if the byte there
// does not start one (overlong forms, surrogates and code points above
// U+10FFFF are not valid).
inline std::size_t utf8_sequence(std::string_view s, std::size_t i)
{
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = b(i);
  if (c < 0x80)
    return 1;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF; // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF)
  {
    n = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  }
  else if (c >= 0xF0 && c <= 0xF4)
  {
    n = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  }
  else
    return 0;
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi)
    return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF)
      return 0;
  return n;
}

// The offset of the first byte that is not valid UTF-8, if any.
inline std::optional<std::size_t> utf8_error(std::string_view s)
{
  for (std::size_t i = 0; i < s.size();)
  {
    const auto n = utf8_sequence(s, i);
    if (n == 0)
      return i;
    i += n;
  }
  return std::nullopt;
}

// `s` with each byte that is not valid UTF-8 written as \xNN (for messages
// and output: never invalid UTF-8, never invalid JSON).
inline std::string printable_utf8(std::string_view s)
{
  if (!utf8_error(s))
    return std::string(s);
  std::string out;
  for (std::size_t i = 0; i < s.size();)
  {
    const auto n = utf8_sequence(s, i);
    if (n == 0)
    {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X",
                    static_cast<unsigned>(static_cast<unsigned char>(s[i])));
      out += hex;
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

inline std::string trim(std::string_view s)
{
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return std::string(s);
}

inline std::string lower(std::string s)
{
  std::transform(s.begin(), s.end(), s.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return s;
}

template <class Int>
bool parse_int(std::string_view text, Int& out)
{
  const auto t = trim(text);
  if (t.empty())
    return false;
  const char* first = t.data();
  const char* last = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last;
}

// Reads rows one at a time: feed it the header line first, then each line.
class csv_reader
{
public:
  // Throws std::invalid_argument if the header lacks a required column.
  void header(std::string_view line)
  {
    std::vector<std::string> fields;
    std::string error;
    if (!split_csv(strip_cr(line), fields, error))
      throw std::invalid_argument("the header line: " + error);
    for (std::size_t i = 0; i < fields.size(); ++i)
    {
      const auto name = lower(trim(fields[i]));
      for (std::size_t k = 0; k < 4; ++k)
        if (name == names[k] && !column_[k])
          column_[k] = i;
    }
    for (std::size_t k = 0; k < 4; ++k)
      if (!column_[k])
        throw std::invalid_argument(std::string("the header has no \"") + names[k]
                                    + "\" column (it needs make, model, year, mileage)");
    width_ = fields.size();
  }

  // The car on this line, or why it is not one.
  std::variant<car, bad_row> row(std::string_view raw, std::size_t line_number) const
  {
    const auto line = strip_cr(raw);
    bad_row bad{line_number, std::string(line), {}};
    std::vector<std::string> fields;
    if (!split_csv(line, fields, bad.error))
      return bad;
    if (fields.size() != width_)
    {
      bad.error =
          "expected " + std::to_string(width_) + " fields, found " + std::to_string(fields.size());
      return bad;
    }
    car c;
    c.line = line_number;
    c.make = trim(fields[*column_[0]]);
    c.model = trim(fields[*column_[1]]);
    if (c.make.empty() || c.model.empty())
    {
      bad.error = "empty make or model";
      return bad;
    }
    for (const auto* field : {&c.make, &c.model})
      if (const auto at = utf8_error(*field))
      {
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02X",
                      static_cast<unsigned>(static_cast<unsigned char>((*field)[*at])));
        bad.error = std::string(field == &c.make ? "make" : "model") + " is not UTF-8 text (byte "
                    + byte + " in \"" + printable_utf8(*field) + "\"; save the file as UTF-8)";
        return bad;
      }
    if (!parse_int(fields[*column_[2]], c.year) || c.year < 1886 || c.year > 2027)
    {
      bad.error = "year is not a year between 1886 and 2027";
      return bad;
    }
    if (!parse_int(fields[*column_[3]], c.mileage) || c.mileage < 0 || c.mileage > 10'000'000)
    {
      bad.error = "mileage is not a whole number between 0 and 10,000,000";
      return bad;
    }
    return c;
  }

  // The header's field count (0 before the header).
  std::size_t width() const noexcept { return width_; }

  static std::string_view strip_cr(std::string_view s)
  {
    if (!s.empty() && s.back() == '\r')
      s.remove_suffix(1);
    return s;
  }

private:
  static constexpr const char* names[4] = {"make", "model", "year", "mileage"};
  std::optional<std::size_t> column_[4];
  std::size_t width_ = 0;
};

} // namespace car_price

#endif
