// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_THREADING_HPP
#define JOBRUNNER_THREADING_HPP

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/ring_buffer.hpp>

#include <atomic>
#include <cstdint>

namespace jobrunner {

/// Threading model: every coroutine of the job runs on the executor you give.
/**
 * The executor must not run two handlers at once: an `io_context` run by
 * one thread, or a strand. Channels are `experimental::channel` (no lock)
 * and counters are written without read-modify-write instructions. This is
 * the fast default. `cancel()` and `stats()` may still be called from any
 * thread.
 */
struct single_threaded
{
  template <class Signature>
  /// The channel type of this model, for a message `Signature`: no lock.
  using channel = asio::experimental::basic_channel<asio::any_io_executor,
                                                    detail::ring_channel_traits<>, Signature>;

  /// Whether handlers of the job may run on several threads at once: no.
  static constexpr bool concurrent = false;

  /// The executor of each coroutine of the job: `ex` itself.
  static asio::any_io_executor coroutine_executor(const asio::any_io_executor& ex) { return ex; }
};

/// Threading model: the executor may run handlers on several threads at once.
/**
 * Each producer, worker and the result handler run on a strand of their own
 * (so a task, and the Asio objects it creates from
 * `co_await asio::this_coro::executor`, run on its worker's strand).
 * Channels are `experimental::concurrent_channel`; counters are atomic.
 */
struct multi_threaded
{
  template <class Signature>
  /// The channel type of this model, for a message `Signature`: a locked, thread-safe channel.
  using channel =
      asio::experimental::basic_concurrent_channel<asio::any_io_executor,
                                                   detail::ring_channel_traits<>, Signature>;

  /// Whether handlers of the job may run on several threads at once: yes.
  static constexpr bool concurrent = true;

  /// The executor of each coroutine of the job: a new strand of `ex`.
  static asio::any_io_executor coroutine_executor(const asio::any_io_executor& ex)
  {
    return asio::make_strand(ex);
  }
};

namespace detail {

// A statistics counter readable from any thread. With a single writer (or a
// single-threaded job) an increment is a plain load and store, which costs
// nothing like a locked read-modify-write on the per-item path.
template <bool SharedWriters>
class counter
{
public:
  // Returns the value before the increment.
  std::uint64_t add(std::uint64_t n = 1) noexcept
  {
    if constexpr (SharedWriters)
      return value_.fetch_add(n, std::memory_order_relaxed);
    else
    {
      const auto old = value_.load(std::memory_order_relaxed);
      value_.store(old + n, std::memory_order_relaxed);
      return old;
    }
  }

  void sub(std::uint64_t n = 1) noexcept
  {
    if constexpr (SharedWriters)
      value_.fetch_sub(n, std::memory_order_relaxed);
    else
      value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }

  std::uint64_t load() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

} // namespace detail
} // namespace jobrunner

#endif
