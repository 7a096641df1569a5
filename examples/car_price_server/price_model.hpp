// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_SERVER_PRICE_MODEL_HPP
#define CAR_PRICE_SERVER_PRICE_MODEL_HPP

// The car-price API's answer: a deterministic price from make, model, year
// and mileage (a toy depreciation model, not market data), so that a test
// can check any answer.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace car_price {

// FNV-1a, 64 bits.
inline std::uint64_t fnv1a(std::string_view s) noexcept
{
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s)
  {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline constexpr int model_year_now = 2026;

// The price in US dollars, rounded to cents: a base price from the make and
// model, 12% depreciation a year, and 1% per 5,000 miles down to 20% of it.
inline double price(std::string_view make, std::string_view model, int year, long mileage) noexcept
{
  const double base = 14000.0 + static_cast<double>(fnv1a(make) % 24) * 1500.0
                      + static_cast<double>(fnv1a(model) % 16) * 900.0;
  const int age = std::max(0, model_year_now - year);
  const double aged = base * std::pow(0.88, age);
  const double wear = std::max(0.2, 1.0 - static_cast<double>(std::max(0L, mileage)) / 500000.0);
  return std::round(aged * wear * 100.0) / 100.0;
}

} // namespace car_price

#endif
