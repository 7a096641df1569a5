// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_LATENCY_HISTOGRAM_HPP
#define JOBRUNNER_DETAIL_LATENCY_HISTOGRAM_HPP

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace jobrunner::detail {

// A log-linear histogram of durations in nanoseconds, fixed in size (16 KiB)
// whatever the number of tasks. Each power of two is split into 32 buckets,
// so a percentile is reported to within about 3% (the bucket's upper edge);
// the maximum is exact.
class latency_histogram
{
public:
  static constexpr unsigned sub_bits = 5;
  static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;
  static constexpr std::size_t bucket_count = (64 - sub_bits + 1) * sub_count;

  void record(std::uint64_t ns) noexcept
  {
    ++counts_[index_of(ns)];
    ++total_;
    if (ns > max_)
      max_ = ns;
  }

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t max() const noexcept { return max_; }

  // The smallest recorded bucket edge below which a fraction q of the values lie.
  std::uint64_t percentile(double q) const noexcept
  {
    if (total_ == 0)
      return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_) + 0.5);
    if (rank < 1)
      rank = 1;
    if (rank > total_)
      rank = total_;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i)
    {
      seen += counts_[i];
      if (seen >= rank)
      {
        auto upper = upper_edge(i);
        return upper < max_ ? upper : max_;
      }
    }
    return max_;
  }

private:
  static std::size_t index_of(std::uint64_t v) noexcept
  {
    if (v < sub_count)
      return static_cast<std::size_t>(v);
    auto msb = static_cast<unsigned>(std::bit_width(v)) - 1; // >= sub_bits
    auto shift = msb - sub_bits;
    auto sub = (v >> shift) & (sub_count - 1);
    return static_cast<std::size_t>((shift + 1) * sub_count + sub);
  }

  static std::uint64_t upper_edge(std::size_t index) noexcept
  {
    auto block = index / sub_count;
    auto sub = index % sub_count;
    if (block == 0)
      return sub;
    auto shift = block - 1;
    return ((sub_count + sub + 1) << shift) - 1;
  }

  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

} // namespace jobrunner::detail

#endif
