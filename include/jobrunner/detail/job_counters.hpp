// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_JOB_COUNTERS_HPP
#define JOBRUNNER_DETAIL_JOB_COUNTERS_HPP

// What a job counts: items in (producers, workers), results out (the
// result handler alone writes those), and the errors of user code.

#include <jobrunner/detail/latency_histogram.hpp>
#include <jobrunner/detail/policy/failure_budget.hpp>
#include <jobrunner/task_result.hpp>
#include <jobrunner/threading.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>

namespace jobrunner::detail {

// The input side, on the per-item path. An item is counted before a waiting
// send (a worker may take it before the sender resumes) and uncounted if
// that send is cancelled; after a successful try_send, right away.
template <bool Concurrent>
class input_counters
{
public:
  void on_submitted() noexcept
  {
    submitted_.add();
    note_depth();
  }
  void on_send_started() noexcept { submitted_.add(); }
  void on_send_finished(bool sent) noexcept
  {
    if (sent)
      note_depth();
    else
      submitted_.sub();
  }
  // Returns the item's place in the order of taking.
  std::uint64_t on_taken() noexcept { return taken_.add(); }

  std::uint64_t submitted() const noexcept { return submitted_.load(); }
  std::uint64_t taken() const noexcept { return taken_.load(); }
  std::uint64_t queued() const noexcept
  {
    const auto s = submitted_.load();
    const auto t = taken_.load();
    return s > t ? s - t : 0;
  }
  std::uint64_t max_depth() const noexcept { return max_depth_.load(std::memory_order_relaxed); }

private:
  void note_depth() noexcept
  {
    const auto depth = queued();
    auto seen = max_depth_.load(std::memory_order_relaxed);
    while (depth > seen
           && !max_depth_.compare_exchange_weak(seen, depth, std::memory_order_relaxed))
    {}
  }

  counter<Concurrent> submitted_;
  counter<Concurrent> taken_;
  std::atomic<std::uint64_t> max_depth_{0};
};

// single_threaded: whether a worker's async_receive is pending. Such a
// receive may already hold an item (its completion is posted), so a
// try_receive now would take a later item first and the sequence numbers
// would not follow submission order: a worker then queues behind it.
// Asked only with ordered delivery: it sends more workers through the
// scheduler, a cost a job pays only when it asks for exact order.
// (multi_threaded: two workers may take items at the same instant anyway;
// nothing is counted.)
template <bool Concurrent>
class receive_order
{
public:
  bool pending() const noexcept { return !Concurrent && pending_ != 0; }
  void started() noexcept
  {
    if constexpr (!Concurrent)
      ++pending_;
  }
  void finished() noexcept
  {
    if constexpr (!Concurrent)
      --pending_;
  }

private:
  std::size_t pending_ = 0;
};

// The output side: written by the result handler only, read from anywhere.
class result_counters
{
public:
  void count(task_status status) noexcept
  {
    switch (status)
    {
    case task_status::succeeded:
      succeeded_.add();
      break;
    case task_status::failed:
      failed_.add();
      break;
    case task_status::cancelled:
      cancelled_.add();
      break;
    case task_status::timed_out:
      timed_out_.add();
      break;
    case task_status::unavailable:
      unavailable_.add();
      break;
    case task_status::expired: // deadlines (issue 14)
      expired_.add();
      break;
    case task_status::expired_in_queue:
      expired_in_queue_.add();
      break;
    }
  }

  policy::result_counts counts() const noexcept
  {
    return {succeeded_.load(),   failed_.load(),  cancelled_.load(),       timed_out_.load(),
            unavailable_.load(), expired_.load(), expired_in_queue_.load()};
  }

  latency_histogram latencies;
  std::uint64_t callback_errors = 0;
  std::exception_ptr first_callback_error;

  void record_callback_error(std::exception_ptr e) noexcept
  {
    if (callback_errors++ == 0)
      first_callback_error = std::move(e);
  }

private:
  counter<false> succeeded_;
  counter<false> failed_;
  counter<false> cancelled_;
  counter<false> timed_out_;
  counter<false> unavailable_;
  counter<false> expired_; // deadlines (issue 14)
  counter<false> expired_in_queue_;
};

// Producers that ended with an exception (any thread).
class producer_errors
{
public:
  void record(std::exception_ptr e)
  {
    std::lock_guard lock(mutex_);
    if (count_++ == 0)
      first_ = std::move(e);
  }

  template <class Summary>
  void fill(Summary& s) const
  {
    std::lock_guard lock(mutex_);
    s.producer_errors = count_;
    s.first_producer_error = first_;
  }

private:
  mutable std::mutex mutex_;
  std::uint64_t count_ = 0;
  std::exception_ptr first_;
};

} // namespace jobrunner::detail

#endif
