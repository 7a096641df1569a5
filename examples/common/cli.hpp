// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef EXAMPLES_COMMON_CLI_HPP
#define EXAMPLES_COMMON_CLI_HPP

// Command-line helpers shared by the car-price server and fetcher: a usage
// error (exit status 2) and a number option checked against its range.

#include <cstdio>
#include <cstdlib>
#include <string>

namespace example_cli {

// The program's name in messages; set it first thing in main().
inline const char*& program()
{
  static const char* name = "example";
  return name;
}

[[noreturn]] inline void bad_option(const std::string& what)
{
  std::fprintf(stderr, "%s: %s (try --help)\n", program(), what.c_str());
  std::exit(2);
}

// `value` as a number within [lo, hi], else a usage error naming `option`.
inline double number(const std::string& option, const char* value, double lo, double hi)
{
  char* end = nullptr;
  const double d = std::strtod(value, &end);
  if (end == value || *end != '\0' || !(d >= lo && d <= hi))
    bad_option(option + " wants a number within [" + std::to_string(lo) + ", " + std::to_string(hi)
               + "], not '" + value + "'");
  return d;
}

} // namespace example_cli

#endif
