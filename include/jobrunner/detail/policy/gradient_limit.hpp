// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_GRADIENT_LIMIT_HPP
#define JOBRUNNER_DETAIL_POLICY_GRADIENT_LIMIT_HPP

// The latency-gradient concurrency limit (JobConfig::adaptive_concurrency
// with algorithm::gradient), as a pure algorithm: it is fed one latency
// sample per successful task and reads no clock (its windows count samples,
// not seconds), so tests drive it with made-up latencies.
//
// Two moving averages of the latency: a short one (the last `short_window`
// samples or so) says what the service does now, a long one (`long_window`)
// what it does when it is not queueing. Their ratio, with a `tolerance` for
// noise, is the gradient: tolerance × long / short, clipped to [0.5, 1].
// 1 means no queueing seen; below 1 the service slows down because we send
// too much. Each sample moves the limit a `smoothing` share of the way to
//   limit × gradient + allowance
// where the allowance is `queue_allowance` until the first sign of
// queueing (gradient below 1, or an overload), and `queue_allowance / limit`
// after it: a quick start, then growth of about `smoothing × queue_allowance`
// per round of `limit` samples, so that it probes above a good limit
// rarely (a sample comes back only after the request's latency, so a fast
// growth overshoots before the slow samples arrive). Between 0.9 times the
// limit the last cut came from and that limit, the allowance is divided by
// the limit again (growth per `limit` rounds): a probe past a knee costs a
// slow round, so it comes back quickly near the limit that proved too
// much, then probes it rarely. Of cuts with no growth between (one slow
// episode, its queue still draining), the first one's limit is kept.
// A cut for queueing starts the short average again (the slow samples that
// made it measured the old limit) and the next such cut waits for half a
// short window of samples; a cut within three rounds of a step up to a new
// whole number of workers (a failed probe) goes back to the last whole
// number (session 9: without these a probe past a knee at 8 cut to 6).
// A cut by the gradient during the first long window (and before any
// overload) may end the quick start, which overshoots (the samples that
// show the queueing come a latency after the growth): back to the highest
// load that was not queueing, the most tasks in flight at a task's start
// whose samples were more often within the tolerance than clearly slow
// (above 1.5 x the tolerance; stale samples count too: they measured their
// load), provided that a load above it had samples back, more often
// clearly slow than not; once, and only downwards. So noise alone never
// lowers the limit more than the smoothed cut
// (session 10: the quick start overshot a knee at 8 to 10, and the
// smoothed cut held 9 while the 400 ms requests drained). Loads above 256
// are not counted: a flat sample there keeps the smoothed cut.
// A sample from a task that started while the limit did not bind (few tasks in flight) does not
// grow the limit, only cuts it. A sample of a task started before the last cut is ignored: it
// measured the old limit (one slow round cuts once). An overload (a timeout or a push-back)
// multiplies the limit by a factor, as AIMD does; the caller decides once per epoch.

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace jobrunner::detail::policy {

class gradient_limit
{
public:
  struct params
  {
    double min = 1;                // the limit never goes below this
    double max = 1;                // nor above this
    double initial = 1;            // the limit at the start
    double smoothing = 0.2;        // share of the way to the target per sample, (0, 1]
    double tolerance = 1.1;        // latency inflation taken for noise, >= 1
    double queue_allowance = 1;    // growth per sample at a flat latency (before smoothing)
    std::size_t short_window = 10; // samples in the short average
    std::size_t long_window = 500; // samples in the long average
  };

  explicit gradient_limit(const params& p) noexcept
      : p_(p), limit_(std::clamp(p.initial, p.min, p.max)),
        step_(static_cast<unsigned long long>(std::floor(limit_))), since_step_(3 * step_ + 1)
  {}

  // One successful task's latency; `binding`: the limit was what bound when
  // it started; `fresh`: it started after the last cut (the caller counts
  // cuts: on_overload, and on_sample when it returns a lower limit). A
  // sample that is not fresh measured the old limit: it is ignored, so one
  // slow round cuts once, not once per slow sample. `level`: the tasks in
  // flight when it started, itself included (0: unknown). Returns the new
  // limit.
  double on_sample(std::chrono::nanoseconds latency, bool binding, bool fresh,
                   std::size_t level = 0) noexcept
  {
    const double x = std::max(1.0, static_cast<double>(latency.count()));
    if (!fresh)
    {
      if (exit_pending_) // stale for the gradient, but it measured its load
        note_level(level, x);
      return limit_;
    }
    ++samples_;
    ++since_cut_;
    ++since_step_;
    // A plain mean until a window is full, then an exponential average. The
    // short one starts again at each cut: the slow samples that made the cut
    // measured the old limit, and would otherwise cut again at the new one.
    const auto n = static_cast<double>(samples_);
    const auto m = static_cast<double>(since_cut_);
    short_ += (x - short_) * std::max(2.0 / (static_cast<double>(p_.short_window) + 1), 1 / m);
    long_ += (x - long_) * std::max(2.0 / (static_cast<double>(p_.long_window) + 1), 1 / n);
    // The service got lastingly faster (less load elsewhere): the long
    // average follows quickly instead of over its whole window.
    if (since_cut_ >= p_.short_window && long_ > 2 * short_)
      long_ = std::max(short_, long_ * 0.9);
    const double gradient = std::clamp(p_.tolerance * long_ / short_, 0.5, 1.0);
    // The quick start's exit is looked for during the first long window.
    exit_pending_ = exit_pending_ && samples_ <= p_.long_window;
    if (exit_pending_)
      note_level(level, x);
    // Growth at a flat latency: the allowance per sample until the first
    // sign of queueing (a quick start), then per round of `limit` samples
    // (about one round trip), so that probing above a good limit is rare.
    if (gradient < 1)
      queued_ = true;
    // Between 0.9 x the limit the last cut came from and that limit, per
    // `limit` rounds: it comes back quickly near a limit that proved too
    // much, then probes it rarely (each probe past a knee costs a slow
    // round).
    const bool cautious = limit_ >= caution * cut_from_ && limit_ <= cut_from_;
    double allowance = queued_ ? p_.queue_allowance / limit_ : p_.queue_allowance;
    if (cautious)
      allowance /= limit_;
    // A cut needs a few samples since the last one (half the short window):
    // one sample of a noisy service is not a trend.
    if (gradient < 1 && since_cut_ < settle())
      return limit_;
    double target = limit_ * gradient + allowance;
    if (!binding)
      target = std::min(target, limit_);
    const double before = limit_;
    limit_ = std::clamp(limit_ + (target - limit_) * p_.smoothing, p_.min, p_.max);
    if (gradient < 1 && limit_ < before) // a cut for queueing
    {
      if (exit_pending_) // the end of the quick start, if a load was clearly slow
      {
        const double exit = quick_start_exit();
        if (exit < limit_)
        {
          limit_ = std::max(p_.min, exit);
          exit_pending_ = false;
        }
      }
      // A failed probe: the cut came within three rounds of the step up to
      // this whole number of workers, so that worker goes (past a knee one
      // more can double the latency), and the limit goes back to the last
      // whole number, not just below this one, from where the next small
      // growth would probe again at once. Other cuts stay smoothed (noise).
      if (since_step_ <= 3 * step_)
        limit_ = std::max(p_.min, std::min(limit_, static_cast<double>(step_) - 1));
      cut(before);
    }
    else if (limit_ > before)
      grew_ = true;
    if (std::floor(limit_) > static_cast<double>(step_)) // a step up: a probe begins
    {
      step_ = static_cast<unsigned long long>(std::floor(limit_));
      since_step_ = 0;
    }
    else if (std::floor(limit_) < static_cast<double>(step_))
    {
      step_ = static_cast<unsigned long long>(std::floor(limit_));
      since_step_ = 3 * step_ + 1; // down: no probe
    }
    return limit_;
  }

  // A timeout or a push-back: the limit times `factor`, in (0, 1).
  double on_overload(double factor) noexcept
  {
    queued_ = true;
    exit_pending_ = false;
    cut(limit_);
    limit_ = std::max(p_.min, limit_ * factor);
    return limit_;
  }

  double limit() const noexcept { return limit_; }
  double short_latency() const noexcept { return short_; } // nanoseconds
  double long_latency() const noexcept { return long_; }   // nanoseconds

private:
  // A cut from `from`: the limit to approach cautiously, unless the limit
  // did not grow since the last cut (the same slow round or overload, its
  // queue still draining: the first cut's limit is what proved too much).
  void cut(double from) noexcept
  {
    since_cut_ = 0;
    if (grew_ || cut_from_ == 0)
      cut_from_ = from;
    grew_ = false;
  }

  // During the first long window: a sample that started at `level` in
  // flight took `x` nanoseconds: flat (within the tolerance), clearly slow
  // (above 1.5 times the tolerance: queueing, not noise) or neither.
  void note_level(std::size_t level, double x) noexcept
  {
    const bool flat = x <= p_.tolerance * long_;
    if (level > max_levels)
      flat_beyond_ = flat_beyond_ || flat;
    else if (level != 0 && flat)
      ++levels_[level][0];
    else if (level != 0 && x > 1.5 * p_.tolerance * long_)
      ++levels_[level][1];
  }

  // The limit the quick start goes back to: the highest level whose samples
  // were more often flat than clearly slow, if a level above it had samples
  // back and they were more often clearly slow than flat (else the cut may
  // be noise: no change, the limit). Levels with no sample back say nothing.
  double quick_start_exit() const noexcept
  {
    if (flat_beyond_)
      return limit_;
    bool queueing_above = false;
    for (std::size_t k = max_levels; k >= 1; --k)
    {
      const auto& n = levels_[k];
      if (n[0] > n[1])
        return queueing_above ? static_cast<double>(k) : limit_;
      queueing_above = queueing_above || n[1] > n[0];
    }
    return limit_;
  }

  unsigned long long settle() const noexcept
  {
    return std::max<unsigned long long>(1, p_.short_window / 2);
  }

  params p_;
  double limit_;
  unsigned long long step_;       // the whole number of workers the limit is at
  unsigned long long since_step_; // samples since it stepped up to it (a probe)
  double short_ = 0;
  double long_ = 0;
  unsigned long long samples_ = 0;
  unsigned long long since_cut_ = 0;     // samples since the last cut (or the start)
  bool queued_ = false;                  // queueing or an overload seen: growth per round
  double cut_from_ = 0;                  // the limit the last cut (queueing, overload) came from
  bool grew_ = false;                    // it grew since the last cut
  static constexpr double caution = 0.9; // cautious growth from caution x cut_from_
  // During the first long window: per level of tasks in flight at a start,
  // the flat and the clearly slow samples (4 KiB).
  static constexpr std::size_t max_levels = 256;
  std::array<std::array<std::uint64_t, 2>, max_levels + 1> levels_{}; // flat, clearly slow
  bool flat_beyond_ = false; // a flat sample started above max_levels
  bool exit_pending_ = true; // the quick start's exit may still come
};

} // namespace jobrunner::detail::policy

#endif
