// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The latency-gradient limit as a pure algorithm: made-up latency samples,
// no clock, no io_context.
#include <jobrunner/detail/policy/gradient_limit.hpp>

#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

using jobrunner::detail::policy::gradient_limit;
using std::chrono::milliseconds;

namespace {

gradient_limit::params limits(double min, double max, double initial)
{
  gradient_limit::params p;
  p.min = min;
  p.max = max;
  p.initial = initial;
  return p;
}

// A deterministic noisy latency: uniform in [base - spread, base + spread].
struct noisy_latency
{
  std::uint64_t state = 12345;
  milliseconds operator()(int base, int spread)
  {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto r = static_cast<int>((state >> 33) % static_cast<std::uint64_t>(2 * spread + 1));
    return milliseconds(base - spread + r);
  }
};

} // namespace

TEST_CASE("gradient: a flat latency grows the limit to the max and keeps it there",
          "[policy][gradient]")
{
  gradient_limit g(limits(1, 50, 2));
  // +smoothing x queue_allowance = 0.2 per sample: 48 / 0.2 = 240 samples.
  for (int i = 0; i < 240; ++i)
    g.on_sample(milliseconds(100), true, true);
  CHECK(g.limit() >= 49.5);
  for (int i = 0; i < 1000; ++i)
    g.on_sample(milliseconds(100), true, true);
  CHECK(g.limit() == 50);
}

TEST_CASE("gradient: a doubling latency cuts the limit with no timeout", "[policy][gradient]")
{
  gradient_limit g(limits(1, 50, 40));
  for (int i = 0; i < 100; ++i)
    g.on_sample(milliseconds(100), true, true);
  REQUIRE(g.limit() == 50);
  // The service slows to 200 ms: no overload signal, only the samples. As
  // in the runner, the `limit` samples after a cut are of tasks started
  // before it (not fresh).
  double last = g.limit();
  unsigned stale = 0;
  for (int i = 0; i < 600; ++i) // about 12 rounds of 50
  {
    const double now = g.on_sample(milliseconds(200), true, stale == 0);
    CHECK(now <= last); // never up while the latency is above its usual
    if (stale != 0)
      --stale;
    if (now < last)
      stale = static_cast<unsigned>(last);
    last = now;
  }
  CHECK(last < 25); // at least halved within about 12 rounds
  CHECK(last >= 1);
}

TEST_CASE("gradient: a cut starts the short average again", "[policy][gradient]")
{
  gradient_limit g(limits(1, 50, 20));
  for (int i = 0; i < 200; ++i)
    g.on_sample(milliseconds(100), true, true);
  const double before = g.limit();
  const double cut = g.on_sample(milliseconds(300), true, true);
  REQUIRE(cut < before);
  CHECK(g.short_latency() > 110e6); // the slow sample is in it
  g.on_sample(milliseconds(100), true, true);
  CHECK(g.short_latency() == 100e6); // only the sample since the cut
}

TEST_CASE("gradient: after a cut the slow samples before it do not cut again", "[policy][gradient]")
{
  // A knee at 8: with 9 in flight the latency doubles (the adaptive
  // benchmark's latency service). The short average starts again at a cut,
  // so once the latency is back to normal at the lower limit it stays there,
  // and the next probe past the knee is far off.
  gradient_limit g(limits(1, 50, 8));
  auto latency = [&] { return milliseconds(g.limit() >= 9 ? 200 : 100); };
  for (int i = 0; i < 200; ++i) // the quick start reaches the knee
    g.on_sample(latency(), true, true);
  int probes = 0;
  double lowest = g.limit();
  bool above = g.limit() >= 9;
  for (int i = 0; i < 3000; ++i) // about 37 s of the benchmark's 80 req/s
  {
    g.on_sample(latency(), true, true);
    lowest = std::min(lowest, g.limit());
    if (g.limit() >= 9 && !above)
      ++probes;
    above = g.limit() >= 9;
  }
  CHECK(lowest >= 7);  // not cut below the knee's worker count but once
  CHECK(probes <= 10); // a probe at most every 300 samples (3.7 s there)
  CHECK(probes >= 1);  // it still probes: the service may get better
}

TEST_CASE("gradient: never below min nor above max", "[policy][gradient]")
{
  gradient_limit g(limits(3, 20, 10));
  noisy_latency noise;
  for (int i = 0; i < 5000; ++i)
  {
    const int base = (i / 250) % 2 == 0 ? 10 : 5000; // flat, then 500 times slower, ...
    const double l = g.on_sample(noise(base, base / 2), true, true);
    CHECK(l >= 3);
    CHECK(l <= 20);
    if (i % 97 == 0)
    {
      const double c = g.on_overload(0.5);
      CHECK(c >= 3);
    }
  }
  gradient_limit low(limits(3, 20, 1)); // an initial limit out of bounds is clamped
  CHECK(low.limit() == 3);
}

TEST_CASE("gradient: samples of tasks started while it did not bind do not grow it",
          "[policy][gradient]")
{
  gradient_limit g(limits(1, 50, 5));
  for (int i = 0; i < 500; ++i)
    g.on_sample(milliseconds(100), false, true);
  CHECK(g.limit() == 5);
  g.on_sample(milliseconds(400), false, true); // but a rising latency still cuts it
  CHECK(g.limit() < 5);
}

TEST_CASE("gradient: noisy samples (+-20 percent) do not make it swing", "[policy][gradient]")
{
  // Bound tested: with latencies uniform in [80, 120] ms, once the limit
  // has grown it stays within [0.8 x max, max] for 20,000 samples. As in
  // the runner, the `limit` samples after a cut are of tasks started before
  // it (not fresh).
  gradient_limit g(limits(1, 100, 10));
  noisy_latency noise;
  unsigned stale = 0;
  auto sample = [&] {
    const double before = g.limit();
    const double l = g.on_sample(noise(100, 20), true, stale == 0);
    if (stale != 0)
      --stale;
    if (l < before)
      stale = static_cast<unsigned>(before);
    return l;
  };
  for (int i = 0; i < 1000; ++i)
    sample();
  double lo = g.limit();
  double hi = g.limit();
  for (int i = 0; i < 20000; ++i)
  {
    const double l = sample();
    lo = std::min(lo, l);
    hi = std::max(hi, l);
  }
  CHECK(lo >= 80);
  CHECK(hi <= 100);
}

TEST_CASE("gradient: samples of tasks started before a cut do not cut again", "[policy][gradient]")
{
  gradient_limit g(limits(1, 50, 20));
  for (int i = 0; i < 200; ++i)
    g.on_sample(milliseconds(100), true, true);
  REQUIRE(g.limit() == 50);
  const double cut = g.on_sample(milliseconds(300), true, true);
  CHECK(cut < 50);
  const double short_at_cut = g.short_latency();
  for (int i = 0; i < 40; ++i) // the slow round's other samples: ignored
    CHECK(g.on_sample(milliseconds(300), true, false) == cut);
  CHECK(g.short_latency() == short_at_cut);
  CHECK(g.long_latency() < 101e6);
}

TEST_CASE("gradient: after the service gets lastingly faster it grows again", "[policy][gradient]")
{
  gradient_limit g(limits(1, 40, 20));
  for (int i = 0; i < 2000; ++i)
    g.on_sample(milliseconds(400), true, true);
  REQUIRE(g.limit() == 40);
  for (int i = 0; i < 400; ++i) // 4 times faster: the long average follows
    g.on_sample(milliseconds(100), true, true);
  CHECK(g.long_latency() < 2 * g.short_latency());
  CHECK(g.limit() == 40);
}

TEST_CASE("gradient: after the first queueing it grows about once per round", "[policy][gradient]")
{
  gradient_limit g(limits(1, 50, 20));
  for (int i = 0; i < 5; ++i) // a quick start: +0.2 per sample
    g.on_sample(milliseconds(100), true, true);
  CHECK(g.limit() >= 20.99);
  CHECK(g.limit() <= 21.01);
  CHECK(g.on_overload(0.5) >= 10.49);
  CHECK(g.limit() <= 10.51);
  // Then +0.2 per round of `limit` (about 10) samples.
  for (int i = 0; i < 10; ++i)
    g.on_sample(milliseconds(100), true, true);
  CHECK(g.limit() > 10.6);
  CHECK(g.limit() < 10.75);
}

TEST_CASE("gradient: grows one per limit rounds between 0.9 x the last cut's limit and it",
          "[policy][gradient]")
{
  gradient_limit g(limits(1, 50, 20));
  g.on_sample(milliseconds(100), true, true);
  const double before = g.limit();
  const double cut = g.on_overload(0.5); // remembers the limit it cut from
  REQUIRE(cut < 0.9 * before);
  // Below 0.9 x that: +0.2 per round of `limit` samples, as before.
  double l = cut;
  while (l < 0.9 * before)
    l = g.on_sample(milliseconds(100), true, true);
  // Then +0.2 per `limit` rounds: 2 x 20 samples add about 0.2 / 20.
  const double slow = l;
  for (int i = 0; i < 40; ++i)
    l = g.on_sample(milliseconds(100), true, true);
  CHECK(l - slow < 0.03);
  CHECK(l - slow > 0.01);
  // Past the limit it was cut from: one per round again.
  while (l <= before)
    l = g.on_sample(milliseconds(100), true, true);
  const double past = l;
  for (int i = 0; i < 40; ++i)
    l = g.on_sample(milliseconds(100), true, true);
  CHECK(l - past > 0.3);
}

TEST_CASE("gradient: a second cut before any growth keeps the first cut's limit",
          "[policy][gradient]")
{
  gradient_limit g(limits(1, 50, 20));
  g.on_overload(0.5); // 20 -> 10
  g.on_overload(0.5); // 10 -> 5: the same overload, still draining
  double l = g.limit();
  while (l < 18)
    l = g.on_sample(milliseconds(100), true, true);
  const double slow = l;
  for (int i = 0; i < 40; ++i)
    l = g.on_sample(milliseconds(100), true, true);
  CHECK(l - slow < 0.03); // cautious below 20, not past 10
}

namespace {

// Tasks run against a service with a knee at 8 (the adaptive benchmark's
// latency service): 100 ms while at most 8 are in flight, doubled for each
// one beyond. Starts fill the limit; each sample arrives a latency after its
// start, so a quick start overshoots before the slow samples come back.
// As in the runner, a sample of a task started before the last cut is not
// fresh. Over the first 3 s after the first slow sample came back: the
// lowest limit, and how long it stayed at 9 or more (above the knee).
struct start_up
{
  double lowest = 1e9;
  std::int64_t ms_above_knee = 0;
};

start_up run_start_up(gradient_limit& g, bool report_levels, int spread = 0,
                      std::uint64_t seed = 12345)
{
  struct task
  {
    std::int64_t end_ms;
    std::size_t level;
    std::int64_t latency_ms;
    int epoch;
  };
  std::vector<task> running;
  noisy_latency noise{seed};
  std::int64_t now = 0;
  std::int64_t first_slow = -1;
  int epoch = 0; // cuts so far
  start_up r;
  while (first_slow < 0 || now < first_slow + 3000)
  {
    while (running.size() < static_cast<std::size_t>(g.limit()))
    {
      const std::size_t level = running.size() + 1;
      const int base = level <= 8 ? 100 : 100 << std::min<std::size_t>(level - 8, 10);
      const auto latency =
          spread == 0 ? base : static_cast<int>(noise(base, base * spread / 100).count());
      running.push_back({now + latency, level, latency, epoch});
    }
    auto first = std::min_element(running.begin(), running.end(),
                                  [](const task& a, const task& b) { return a.end_ms < b.end_ms; });
    const task done = *first;
    running.erase(first);
    if (first_slow >= 0 && g.limit() >= 9)
      r.ms_above_knee += done.end_ms - now;
    now = done.end_ms;
    if (first_slow < 0 && done.level > 8)
      first_slow = now;
    const double before = g.limit();
    if (g.on_sample(milliseconds(done.latency_ms), true, done.epoch == epoch,
                    report_levels ? done.level : 0)
        < before)
      ++epoch;
    if (first_slow >= 0)
      r.lowest = std::min(r.lowest, g.limit());
  }
  return r;
}

} // namespace

TEST_CASE("gradient: the quick start ends at the highest load that was not queueing",
          "[policy][gradient]")
{
  SECTION("exact latencies: back to the knee within a slow latency (200 ms)")
  {
    gradient_limit with(limits(1, 50, 1));
    const auto known = run_start_up(with, true);
    CHECK(known.lowest >= 8);
    CHECK(known.ms_above_knee <= 250);
    gradient_limit without(limits(1, 50, 1)); // the levels unknown: the smoothed cuts
    const auto unknown = run_start_up(without, false);
    CHECK(unknown.lowest >= 8);
    CHECK(unknown.ms_above_knee >= 400); // what the known levels save
  }
  SECTION("with noise (uniform, +-20%), 20 seeds: no worse, mostly better")
  {
    int quick = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed)
    {
      gradient_limit with(limits(1, 50, 1));
      gradient_limit without(limits(1, 50, 1));
      const auto known = run_start_up(with, true, 20, seed);
      const auto unknown = run_start_up(without, false, 20, seed);
      INFO("seed " << seed);
      CHECK(known.lowest >= 8);
      CHECK(known.ms_above_knee <= unknown.ms_above_knee + 50); // 13 ms worse at most, when written
      quick += known.ms_above_knee <= 400 ? 1 : 0;
    }
    CHECK(quick >= 15); // 17 of 20 when written; without the levels, none
  }
}

TEST_CASE("gradient: noise alone never makes the quick start's exit cut deeper",
          "[policy][gradient]")
{
  // A service with no knee (100 ms +-30% whatever the load): a cut there is
  // noise. Two limits get the same samples, one with the tasks' levels and
  // one without; until the first cut they are the same, so the run is
  // driven by the first. At the first cut the levels must not lower the
  // limit below the smoothed cut (no load's samples were clearly slow).
  for (std::uint64_t seed = 1; seed <= 50; ++seed)
  {
    gradient_limit with(limits(1, 200, 1));
    gradient_limit without(limits(1, 200, 1));
    noisy_latency noise{seed};
    struct task
    {
      std::int64_t end_ms;
      std::size_t level;
      std::int64_t latency_ms;
    };
    std::vector<task> running;
    std::int64_t now = 0;
    double cut_with = -1;
    double cut_without = -1;
    for (int i = 0; i < 20000 && cut_with < 0; ++i)
    {
      while (running.size() < static_cast<std::size_t>(with.limit()))
      {
        const auto latency = noise(100, 30).count();
        running.push_back({now + latency, running.size() + 1, latency});
      }
      auto first =
          std::min_element(running.begin(), running.end(),
                           [](const task& a, const task& b) { return a.end_ms < b.end_ms; });
      const task done = *first;
      running.erase(first);
      now = done.end_ms;
      const double before = with.limit();
      const double a = with.on_sample(milliseconds(done.latency_ms), true, true, done.level);
      const double b = without.on_sample(milliseconds(done.latency_ms), true, true, 0);
      if (a < before || b < before)
      {
        cut_with = a;
        cut_without = b;
      }
    }
    INFO("seed " << seed);
    REQUIRE(cut_with > 0); // the noise did cut at some point
    CHECK(cut_with == cut_without);
  }
}
