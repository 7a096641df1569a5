// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_RESULT_QUEUE_HPP
#define JOBRUNNER_DETAIL_RESULT_QUEUE_HPP

// The bounded queue from the workers to the result handler (many senders,
// one receiver), ended in band by close() after the last result.
//
// On single_threaded it is a ring of records with a FIFO of waiting senders
// and at most one waiting receiver: a send or receive that does not wait
// moves the record once, in or out (an Asio channel wraps it in a payload
// and an optional, about 180 more instructions per item). A wait costs one
// post, as a channel's does. Senders are served in order, so with capacity
// 0 a send completes only when the receiver takes its record (a rendezvous).
// On multi_threaded it is Asio's concurrent_channel, which is thread-safe.
//
// Nothing cancels these waits (workers send shielded; the handler has no
// signal bound). Waiters hold outstanding work; if the io_context shuts
// down with waiters pending, its shutdown destroys them (shutdown_registry), as
// it does a channel's, so the coroutines they hold are freed (shutdown_registry.hpp).

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/queue_waiter.hpp>
#include <jobrunner/detail/ring_buffer.hpp>
#include <jobrunner/detail/shutdown_registry.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

namespace jobrunner::detail {

template <class T, bool Concurrent>
class result_queue;

// single_threaded: every operation runs on the job's one thread.
template <class T>
class result_queue<T, false> final : private shutdown_registry::client
{
public:
  using message = std::optional<T>;

  result_queue(const asio::any_io_executor& ex, std::size_t capacity)
      : client(shutdown_registry_of(ex)), capacity_(capacity)
  {}
  result_queue(const result_queue&) = delete;
  result_queue& operator=(const result_queue&) = delete;

  // Moves *record in (leaving `record` empty) unless the queue is full.
  bool try_send(message& record)
  {
    if (receiver_)
    {
      receiver_out_->emplace(std::move(*record));
      record.reset();
      finish(std::move(receiver_), error_code{});
      return true;
    }
    if (buffer_.size() >= capacity_)
      return false;
    buffer_.push_back(std::move(*record));
    record.reset();
    return true;
  }

  // Completes with void(error_code) once *record is in the queue. `record`
  // stays in the caller's frame until then and must outlive the wait.
  template <class CompletionToken>
  auto async_send(message& record, CompletionToken&& token)
  {
    return asio::async_initiate<CompletionToken, void(error_code)>(
        [this, &record](auto handler) {
          auto w = queue_waiter::make(std::move(handler));
          if (try_send(record))
            finish(std::move(w), error_code{});
          else
            senders_.push_back(sender{&record, std::move(w)});
        },
        token);
  }

  // No more sends: the receiver gets eof once the queue is empty. Completes
  // at once; an operation so that the caller's code is the same for both
  // kinds of queue.
  template <class CompletionToken>
  auto async_close(CompletionToken&& token)
  {
    closed_ = true;
    if (receiver_)
      finish(std::move(receiver_), asio::error::eof);
    return asio::post(std::forward<CompletionToken>(token)); // on the caller's executor
  }

  // Takes the next record into `out`, or sets `ec` to eof at the end.
  // False when there is neither.
  bool try_receive(message& out, error_code& ec)
  {
    if (!buffer_.empty())
    {
      out.emplace(std::move(buffer_.front()));
      buffer_.pop_front();
      if (!senders_.empty())
      {
        auto s = std::move(senders_.front());
        senders_.pop_front();
        buffer_.push_back(std::move(**s.record));
        s.record->reset();
        finish(std::move(s.waiter), error_code{});
      }
      return true;
    }
    if (!senders_.empty()) // capacity 0: straight from the sender
    {
      auto s = std::move(senders_.front());
      senders_.pop_front();
      out.emplace(std::move(**s.record));
      s.record->reset();
      finish(std::move(s.waiter), error_code{});
      return true;
    }
    if (!closed_)
      return false;
    ec = asio::error::eof;
    return true;
  }

  // Completes with void(error_code): no error once a record is in `out`,
  // eof at the end. One receive at a time.
  template <class CompletionToken>
  auto async_receive(message& out, CompletionToken&& token)
  {
    return asio::async_initiate<CompletionToken, void(error_code)>(
        [this, &out](auto handler) {
          auto w = queue_waiter::make(std::move(handler));
          error_code ec;
          if (try_receive(out, ec))
            finish(std::move(w), ec);
          else
          {
            receiver_ = std::move(w);
            receiver_out_ = &out;
          }
        },
        token);
  }

private:
  struct sender
  {
    message* record;
    queue_waiter_ptr waiter;
  };

  // Destroying a waiter destroys its coroutine, which may destroy this
  // queue: nothing of *this is touched once they go.
  void drop_waiters() noexcept override
  {
    auto senders = std::move(senders_);
    auto receiver = std::move(receiver_);
  }

  std::size_t capacity_;
  ring_buffer<T> buffer_;
  ring_buffer<sender> senders_;
  queue_waiter_ptr receiver_;
  message* receiver_out_ = nullptr;
  bool closed_ = false;
};

// multi_threaded: Asio's concurrent channel, with the same interface.
template <class T>
class result_queue<T, true>
{
public:
  using message = std::optional<T>;

  result_queue(const asio::any_io_executor& ex, std::size_t capacity) : channel_(ex, capacity) {}

  bool try_send(message& record) { return channel_.try_send(error_code{}, std::move(record)); }

  template <class CompletionToken>
  auto async_send(message& record, CompletionToken&& token)
  {
    return channel_.async_send(error_code{}, std::move(record),
                               std::forward<CompletionToken>(token));
  }

  template <class CompletionToken>
  auto async_close(CompletionToken&& token)
  {
    return channel_.async_send(asio::error::eof, message{}, std::forward<CompletionToken>(token));
  }

  bool try_receive(message& out, error_code& ec)
  {
    return channel_.try_receive([&](error_code e, message&& m) {
      ec = e;
      if (m)
        out.emplace(std::move(*m));
    });
  }

  template <class CompletionToken>
  auto async_receive(message& out, CompletionToken&& token)
  {
    return channel_.async_receive(asio::deferred([&out](error_code e, message m) {
      if (m)
        out.emplace(std::move(*m));
      return asio::deferred.values(e);
    }))(std::forward<CompletionToken>(token));
  }

private:
  asio::experimental::basic_concurrent_channel<asio::any_io_executor, ring_channel_traits<>,
                                               void(error_code, message)>
      channel_;
};

} // namespace jobrunner::detail

#endif
