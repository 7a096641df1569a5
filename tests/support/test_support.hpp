// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_TESTS_SUPPORT_TEST_SUPPORT_HPP
#define JOBRUNNER_TESTS_SUPPORT_TEST_SUPPORT_HPP

// Catch2 2 (Debian 12) and Catch2 3 behind one include.
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp> // GENERATE, table
#include <catch2/matchers/catch_matchers.hpp>     // CHECK_THROWS_WITH
#else
#include <catch2/catch.hpp>
#endif

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <utility>

namespace jobrunner::test {

// Waits `d` on a timer of the calling coroutine's executor: a task's I/O.
inline boost::asio::awaitable<void> sleep_for(std::chrono::nanoseconds d)
{
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  co_await t.async_wait(boost::asio::use_awaitable);
}

// Runs io until it runs out of work, with a generous guard so that a leaked
// coroutine fails the test instead of hanging it. Returns true if the
// io_context ran out of work (no coroutine, timer or post left behind).
inline bool run_to_completion(boost::asio::io_context& io,
                              std::chrono::seconds guard = std::chrono::seconds(60))
{
  io.restart();
  io.run_for(guard);
  return io.stopped();
}

// [first, last) computed on the fly, passing each value through f: a lazy
// input for the runner. (The tests avoid std::views: clang 14 cannot compile
// libstdc++ 12's ranges.)
template <class T, class F>
class mapped_range
{
public:
  mapped_range(T first, T last, F f) : first_(first), last_(last), f_(std::move(f)) {}

  struct iterator
  {
    T value;
    const F* f;
    decltype(auto) operator*() const { return (*f)(value); }
    iterator& operator++()
    {
      ++value;
      return *this;
    }
    bool operator==(const iterator& o) const { return value == o.value; }
  };

  iterator begin() const { return {first_, &f_}; }
  iterator end() const { return {last_, &f_}; }

private:
  T first_;
  T last_;
  F f_;
};

template <class T, class F>
mapped_range<T, F> mapped(T first, T last, F f)
{
  return {first, last, std::move(f)};
}

template <class T>
auto iota(T first, T last)
{
  return mapped(first, last, [](T v) { return v; });
}

// A work item that counts its live instances, to check that memory stays
// bounded by the capacities instead of the number of items. `values` counts
// the instances that hold an item (the first object of an item, then the one
// it was moved into); `objects` also counts moved-from shells, which hold
// nothing but their own bytes.
struct counted
{
  static inline std::atomic<long> objects{0};
  static inline std::atomic<long> peak_objects{0};
  static inline std::atomic<long> values{0};
  static inline std::atomic<long> peak_values{0};

  static void reset()
  {
    objects = 0;
    peak_objects = 0;
    values = 0;
    peak_values = 0;
  }

  explicit counted(long v = 0) : value(v), holds_(true)
  {
    add(objects, peak_objects);
    add(values, peak_values);
  }
  counted(const counted& o) : value(o.value), holds_(o.holds_)
  {
    add(objects, peak_objects);
    if (holds_)
      add(values, peak_values);
  }
  counted(counted&& o) noexcept : value(o.value), holds_(std::exchange(o.holds_, false))
  {
    add(objects, peak_objects);
  }
  counted& operator=(const counted& o)
  {
    if (this != &o)
    {
      if (o.holds_ && !holds_)
        add(values, peak_values);
      else if (!o.holds_ && holds_)
        --values;
      value = o.value;
      holds_ = o.holds_;
    }
    return *this;
  }
  counted& operator=(counted&& o) noexcept
  {
    if (this != &o)
    {
      if (holds_)
        --values; // ours is dropped; o's moves here
      value = o.value;
      holds_ = std::exchange(o.holds_, false);
    }
    return *this;
  }
  ~counted()
  {
    --objects;
    if (holds_)
      --values;
  }

  long value;

private:
  static void add(std::atomic<long>& live, std::atomic<long>& peak)
  {
    long now = ++live;
    long seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now))
    {}
  }

  bool holds_;
};

} // namespace jobrunner::test

#endif
