// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_DONE_EVENT_HPP
#define JOBRUNNER_DETAIL_DONE_EVENT_HPP

// The controller's wake-up when the job's last coroutine has finished. An
// asynchronous operation with no timer behind it: a pending timer makes
// Asio's scheduler ask the kernel for events (epoll_wait) each time it
// cycles its queue, a cost on every item of a job that does no I/O.
// A cancellation of the wait does not end it: it calls `on_cancel` (which
// cancels the job), and the wait goes on until set(). A wait still pending
// when the execution context shuts down is destroyed (shutdown_registry.hpp).

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/shutdown_registry.hpp>

#include <memory>
#include <mutex>
#include <utility>

namespace jobrunner::detail {

class done_event final : private shutdown_registry::client
{
public:
  done_event() = default;

  // Completes with void() once set() has been called. One wait at a time.
  template <class OnCancel, class CompletionToken>
  auto async_wait(OnCancel on_cancel, CompletionToken&& token)
  {
    return asio::async_initiate<CompletionToken, void()>(
        [this, on_cancel](auto handler) mutable {
          using handler_type = decltype(handler);
          auto slot = asio::get_associated_cancellation_slot(handler);
          if (slot.is_connected())
            slot.assign([on_cancel](asio::cancellation_type) mutable { on_cancel(); });
          if (!enrolled()) // the handler's context: its shutdown destroys the wait
            enroll(shutdown_registry_of(asio::get_associated_executor(handler)));
          auto w = std::make_unique<waiter_for<handler_type>>(std::move(handler));
          std::unique_lock lock(mutex_);
          if (!set_)
          {
            waiter_ = std::move(w);
            return;
          }
          lock.unlock();
          w->complete();
        },
        token);
  }

  // Safe from any thread; completes the wait (now or when it starts).
  void set()
  {
    std::unique_ptr<waiter> w;
    {
      std::lock_guard lock(mutex_);
      set_ = true;
      w = std::move(waiter_);
    }
    if (w)
      w->complete();
  }

private:
  void drop_waiters() noexcept override
  {
    std::unique_ptr<waiter> w;
    std::lock_guard lock(mutex_);
    w = std::move(waiter_);
    // `w` goes after the lock, and its coroutine may take this object with it.
  }

  struct waiter
  {
    virtual ~waiter() = default;
    virtual void complete() = 0;
  };

  template <class Handler>
  struct waiter_for final : waiter
  {
    explicit waiter_for(Handler h)
        : handler(std::move(h)), work(asio::make_work_guard(asio::get_associated_executor(handler)))
    {}

    // Runs on the thread of set(), which may not be the waiter's: the slot
    // is cleared, and the handler called, on the handler's own executor,
    // where a cancellation of the wait would be emitted too.
    void complete() override
    {
      auto ex = work.get_executor();
      asio::post(ex, [h = std::move(handler), w = std::move(work)]() mutable {
        asio::get_associated_cancellation_slot(h).clear();
        w.reset();
        std::move(h)();
      });
    }

    Handler handler;
    asio::executor_work_guard<asio::associated_executor_t<Handler>> work;
  };

  std::mutex mutex_;
  bool set_ = false;
  std::unique_ptr<waiter> waiter_;
};

} // namespace jobrunner::detail

#endif
