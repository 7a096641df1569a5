// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_QUEUE_WAITER_HPP
#define JOBRUNNER_DETAIL_QUEUE_WAITER_HPP

// A waiting operation of the result queue (result_queue.hpp): the stored
// completion handler, with outstanding work on its executor while it waits.

#include <jobrunner/detail/asio.hpp>

#include <boost/asio/recycling_allocator.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace jobrunner::detail {

// A stored completion handler of signature void(error_code), completed by
// posting it to its own executor.
// Completing or destroying a waiter frees it: complete() through finish().
class queue_waiter
{
public:
  virtual void complete(error_code ec) = 0; // posts the handler, frees the waiter
  virtual void destroy() noexcept = 0;

  template <class Handler>
  static std::unique_ptr<queue_waiter, struct queue_waiter_deleter> make(Handler&& h);

protected:
  ~queue_waiter() = default;
};

template <class Handler>
class queue_waiter_for final : public queue_waiter
{
public:
  explicit queue_waiter_for(Handler h)
      : handler_(std::move(h)),
        work_(asio::make_work_guard(asio::get_associated_executor(handler_)))
  {}

  void complete(error_code ec) override
  {
    // The posted function is outstanding work itself: the guard goes after.
    auto work = std::move(work_);
    auto f = [h = std::move(handler_), ec]() mutable { std::move(h)(ec); };
    destroy();
    asio::post(work.get_executor(), std::move(f));
  }

  void destroy() noexcept override
  {
    asio::recycling_allocator<queue_waiter_for> alloc;
    this->~queue_waiter_for();
    alloc.deallocate(this, 1);
  }

private:
  Handler handler_;
  asio::executor_work_guard<asio::associated_executor_t<Handler>> work_;
};

// Waiters come from Asio's per-thread recycling allocator, as a channel's
// operations do: a wait allocates nothing in a job's steady state.
struct queue_waiter_deleter
{
  void operator()(queue_waiter* w) const noexcept { w->destroy(); }
};
using queue_waiter_ptr = std::unique_ptr<queue_waiter, queue_waiter_deleter>;

inline void finish(queue_waiter_ptr w, error_code ec)
{
  w.release()->complete(ec);
}

template <class Handler>
queue_waiter_ptr queue_waiter::make(Handler&& h)
{
  using waiter_type = queue_waiter_for<std::decay_t<Handler>>;
  asio::recycling_allocator<waiter_type> alloc;
  waiter_type* p = alloc.allocate(1);
  try
  {
    ::new (static_cast<void*>(p)) waiter_type(std::forward<Handler>(h));
  }
  catch (...)
  {
    alloc.deallocate(p, 1);
    throw;
  }
  return queue_waiter_ptr(p);
}

} // namespace jobrunner::detail

#endif
