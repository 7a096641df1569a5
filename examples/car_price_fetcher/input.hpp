// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_INPUT_HPP
#define CAR_PRICE_FETCHER_INPUT_HPP

// The fetcher's input: the CSV file (or stdin) opened, its header read and
// checked, then one row at a time (a car, or why the row is not one).

#include "../common/cli.hpp"
#include "csv.hpp"

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <variant>

namespace car_price {

class input
{
public:
  // Opens `path` (- for stdin); a file that cannot be opened is a usage error.
  explicit input(const std::string& path) : path_(path)
  {
    if (path == "-")
      return;
    file_.open(path, std::ios::binary);
    if (!file_)
      example_cli::bad_option("cannot open the input " + path);
    in_ = &file_;
    const auto lines = count_lines(path);
    total_rows_ = lines > 0 ? lines - 1 : 0;
  }

  // Reads the header (the first non-blank line). Returns false, with the
  // reason on stderr, when it lacks a required column.
  bool read_header()
  {
    std::string header;
    while (header.empty() && std::getline(*in_, header))
    {
      ++line_number_;
      header = std::string(csv_reader::strip_cr(header));
    }
    try
    {
      reader_.header(header);
    }
    catch (const std::exception& e)
    {
      std::fprintf(stderr, "car_price_fetcher: %s: line %zu: %s\n", path_.c_str(), line_number_,
                   e.what());
      return false;
    }
    return true;
  }

  // The next row (blank lines skipped), or nothing at the end.
  std::optional<std::variant<car, bad_row>> next()
  {
    std::string line;
    while (std::getline(*in_, line))
    {
      ++line_number_;
      if (csv_reader::strip_cr(line).empty())
        continue;
      return reader_.row(line, line_number_);
    }
    return std::nullopt;
  }

  const std::string& path() const noexcept { return path_; }
  // The data rows in the file (0: unknown, stdin).
  std::size_t total_rows() const noexcept { return total_rows_; }

private:
  static std::size_t count_lines(const std::string& path)
  {
    std::ifstream in(path, std::ios::binary);
    std::size_t n = 0;
    std::string line;
    while (std::getline(in, line))
      ++n;
    return n;
  }

  std::string path_;
  std::ifstream file_;
  std::istream* in_ = &std::cin;
  std::size_t total_rows_ = 0;
  csv_reader reader_;
  std::size_t line_number_ = 0;
};

} // namespace car_price

#endif
