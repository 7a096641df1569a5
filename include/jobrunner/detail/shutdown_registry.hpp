// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_SHUTDOWN_REGISTRY_HPP
#define JOBRUNNER_DETAIL_SHUTDOWN_REGISTRY_HPP

// The job's own waits (the result queue's, the controller's done_event) store
// completion handlers that own suspended coroutines, which own the job state,
// which owns the waits: a cycle. Asio breaks it for its own objects when an
// execution context shuts down (a stopped io_context destroyed mid-job); this
// service does the same for ours: at shutdown it tells every registered
// client to destroy its stored handlers.

#include <jobrunner/detail/asio.hpp>

#include <mutex>
#include <set>

namespace jobrunner::detail {

class shutdown_registry : public asio::execution_context::service
{
public:
  using key_type = shutdown_registry;
  inline static asio::execution_context::id id;

  explicit shutdown_registry(asio::execution_context& context) : service(context) {}

  // A client registers when it is created and leaves when it is destroyed,
  // unless shutdown has already dropped it (the service may be gone then).
  class client
  {
  public:
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    virtual void drop_waiters() noexcept = 0;

  protected:
    client() = default; // enrolls later, when it knows its execution context
    explicit client(shutdown_registry& registry) { enroll(registry); }
    void enroll(shutdown_registry& registry)
    {
      registry.add(this);
      registry_ = &registry;
    }
    bool enrolled() const noexcept { return registry_ != nullptr; }
    virtual ~client()
    {
      if (registry_ != nullptr)
        registry_->remove(this);
    }

  private:
    friend class shutdown_registry;
    shutdown_registry* registry_ = nullptr;
  };

private:
  void add(client* c)
  {
    std::lock_guard lock(mutex_);
    clients_.insert(c);
  }
  void remove(client* c) noexcept
  {
    std::lock_guard lock(mutex_);
    clients_.erase(c);
  }

  // One client at a time: dropping one's waiters may destroy others, which
  // then leave the set.
  void shutdown() override
  {
    for (;;)
    {
      client* c = nullptr;
      {
        std::lock_guard lock(mutex_);
        if (clients_.empty())
          return;
        c = *clients_.begin();
        clients_.erase(clients_.begin());
        c->registry_ = nullptr;
      }
      c->drop_waiters();
    }
  }

  std::mutex mutex_;
  std::set<client*> clients_;
};

inline shutdown_registry& shutdown_registry_of(const asio::any_io_executor& ex)
{
  return asio::use_service<shutdown_registry>(asio::query(ex, asio::execution::context));
}

} // namespace jobrunner::detail

#endif
