// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_RING_BUFFER_HPP
#define JOBRUNNER_DETAIL_RING_BUFFER_HPP

#include <jobrunner/detail/asio.hpp>

#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace jobrunner::detail {

// The buffer behind jobrunner's channels. Asio's default is a std::deque,
// which in a queue's steady state (push at the back, pop at the front)
// allocates and frees a block every few elements. This ring grows by
// doubling up to the channel's capacity and then never allocates again.
// It offers exactly what Asio 1.81's channel_service uses.
template <class T>
class ring_buffer
{
public:
  ring_buffer() = default;
  ring_buffer(ring_buffer&& other) noexcept { swap(other); }
  ring_buffer& operator=(ring_buffer&& other) noexcept
  {
    ring_buffer moved(std::move(other));
    swap(moved);
    return *this;
  }
  ring_buffer(const ring_buffer&) = delete;
  ring_buffer& operator=(const ring_buffer&) = delete;
  ~ring_buffer()
  {
    clear();
    ::operator delete(storage_, std::align_val_t(alignof(T)));
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  void push_back(T&& value) { emplace(std::move(value)); }
  void push_back(const T& value) { emplace(value); }

  T& front() noexcept { return slot(head_); }

  void pop_front() noexcept
  {
    slot(head_).~T();
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
  }

  void clear() noexcept
  {
    while (size_ != 0)
      pop_front();
    head_ = 0;
  }

private:
  T& slot(std::size_t i) noexcept { return *std::launder(reinterpret_cast<T*>(storage_) + i); }

  template <class U>
  void emplace(U&& value)
  {
    if (size_ == capacity_)
      grow();
    ::new (static_cast<void*>(reinterpret_cast<T*>(storage_) + ((head_ + size_) & (capacity_ - 1))))
        T(std::forward<U>(value));
    ++size_;
  }

  void grow()
  {
    std::size_t capacity = capacity_ == 0 ? 8 : capacity_ * 2; // a power of two
    auto* fresh =
        static_cast<std::byte*>(::operator new(capacity * sizeof(T), std::align_val_t(alignof(T))));
    for (std::size_t i = 0; i < size_; ++i)
    {
      T& from = slot((head_ + i) & (capacity_ - 1));
      ::new (static_cast<void*>(reinterpret_cast<T*>(fresh) + i)) T(std::move(from));
      from.~T();
    }
    ::operator delete(storage_, std::align_val_t(alignof(T)));
    storage_ = fresh;
    capacity_ = capacity;
    head_ = 0;
  }

  void swap(ring_buffer& other) noexcept
  {
    std::swap(storage_, other.storage_);
    std::swap(capacity_, other.capacity_);
    std::swap(head_, other.head_);
    std::swap(size_, other.size_);
  }

  std::byte* storage_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

// Asio's channel traits with the ring buffer in place of std::deque.
template <class... Signatures>
struct ring_channel_traits : asio::experimental::channel_traits<Signatures...>
{
  template <class... NewSignatures>
  struct rebind
  {
    using other = ring_channel_traits<NewSignatures...>;
  };

  template <class Element>
  struct container
  {
    using type = ring_buffer<Element>;
  };
};

} // namespace jobrunner::detail

#endif
