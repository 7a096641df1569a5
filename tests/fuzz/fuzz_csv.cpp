// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// libFuzzer target: the fetcher's CSV input (a header line, then rows).
// Every row must come out as a car or a bad row with a reason; a car's
// fields must satisfy what the reader promises (make and model UTF-8), and
// printable_utf8 must make any text valid UTF-8.
#include "csv.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view text(reinterpret_cast<const char*>(data), size);
  car_price::csv_reader reader;
  const auto eol = text.find('\n');
  try
  {
    reader.header(text.substr(0, eol));
  }
  catch (const std::invalid_argument&)
  {
    return 0; // a header without the four columns is rejected, not crashed on
  }
  std::size_t line = 1;
  for (auto pos = eol; pos != std::string_view::npos && pos < text.size();)
  {
    const auto next = text.find('\n', pos + 1);
    const auto row = text.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    auto result = reader.row(row, ++line);
    if (auto* c = std::get_if<car_price::car>(&result))
    {
      if (c->make.empty() || c->model.empty() || c->year < 1886 || c->year > 2027 || c->mileage < 0
          || c->line != line || car_price::utf8_error(c->make) || car_price::utf8_error(c->model))
        std::abort();
    }
    else if (std::get<car_price::bad_row>(result).error.empty())
      std::abort();
    if (car_price::utf8_error(car_price::printable_utf8(row)))
      std::abort();
    pos = next;
  }
  return 0;
}
