// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_REDIS_CONNECTION_HPP
#define JOBRUNNER_REDIS_CONNECTION_HPP

// A Redis connection on Asio: hiredis's asynchronous client (the protocol,
// pipelining, reply parsing) driven by an Asio reactor adapter written here
// (hiredis ships adapters for libevent, libuv and others, not Asio). One
// connection belongs to one executor that does not run handlers
// concurrently (an io_context run by one thread, or a strand).
//
// Optional part of jobrunner: target jobrunner::redis, which links hiredis.

#include <boost/asio.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <memory>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace jobrunner::redis {

namespace asio = boost::asio;

/// A Redis reply, copied out of hiredis's.
struct reply
{
  enum class kind
  {
    nil,
    status,
    error,
    integer,
    string,
    array
  };
  kind type = kind::nil;
  std::string str;       ///< status, error or string
  long long integer = 0; ///< integer
  std::vector<reply> elements;

  bool is_nil() const noexcept { return type == kind::nil; }
  bool is_error() const noexcept { return type == kind::error; }
};

/// How a connection is made and kept.
struct connection_options
{
  /// A connection not made within this fails (its commands with it).
  std::chrono::milliseconds connect_timeout{5000};
  /// A command unanswered this long closes the connection (a peer that
  /// accepts and never answers, a dead route). Must exceed any BLOCK time.
  std::chrono::milliseconds command_timeout{10000};
  /// Once lost, a command reconnects (no more often than a backoff that
  /// doubles from 100 ms to 2 s). Commands sent when it was lost fail.
  bool reconnect = true;
  /// AUTH sent first on every connection: `password` alone, or `user` and
  /// `password` (Redis 6 ACL). Empty: no AUTH.
  std::string user, password;
  /// SO_KEEPALIVE (probes after 15 s idle): a dead peer is detected even
  /// when the connection is idle.
  bool keepalive = true;
  /// Redis Cluster: a MOVED reply moves the connection to the node it
  /// names, and the command is sent there again (ASK is not followed: the
  /// caller gets it as an error).
  bool follow_moved = true;
};

/// Where a Redis server is: `host:port` (port 6379 if omitted) or
/// `redis://[[user]:password@]host[:port][/]`.
struct address
{
  std::string host;
  int port = 6379;
  std::string user, password;
};

/// Parses an address; throws `std::invalid_argument` saying what is wrong.
inline address parse_address(const std::string& text)
{
  address a;
  std::string rest = text;
  if (rest.rfind("redis://", 0) == 0)
  {
    rest = rest.substr(8);
    if (!rest.empty() && rest.back() == '/')
      rest.pop_back();
    const auto at = rest.rfind('@');
    if (at != std::string::npos)
    {
      const auto credentials = rest.substr(0, at);
      rest = rest.substr(at + 1);
      const auto colon = credentials.find(':');
      if (colon == std::string::npos)
        a.password = credentials;
      else
      {
        a.user = credentials.substr(0, colon);
        a.password = credentials.substr(colon + 1);
      }
    }
  }
  else if (rest.find("://") != std::string::npos)
    throw std::invalid_argument("redis: not a redis:// URL: " + text);
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos)
  {
    const auto port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (port.empty() || port.size() > 5
        || port.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("redis: bad port in " + text);
    a.port = std::stoi(port);
    if (a.port <= 0 || a.port > 65535)
      throw std::invalid_argument("redis: bad port in " + text);
  }
  if (rest.empty() || rest.find_first_of("/@") != std::string::npos)
    throw std::invalid_argument("redis: no host in " + text + " (HOST:PORT or redis://...)");
  a.host = rest;
  return a;
}

/// The connection was lost or could not be made, or Redis answered an error.
class error : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// hiredis writes with write() or send() without MSG_NOSIGNAL: a write on a
// connection the server has dropped raises SIGPIPE, whose default action
// ends the process (a runner of CI's redis.ackloss test died so, -13, when
// its connection was killed). While hiredis writes, the shield blocks
// SIGPIPE on this thread and takes back one the write raised (a write's
// SIGPIPE goes to its thread), so the write fails with EPIPE, which hiredis
// reports as a lost connection. A SIGPIPE pending before is left pending;
// the process's signal handlers are not touched.
class sigpipe_shield
{
public:
  sigpipe_shield() noexcept
  {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    was_pending_ = pending();
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~sigpipe_shield()
  {
    if (!was_pending_ && pending())
    {
      const timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR)
      {}
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_shield(const sigpipe_shield&) = delete;
  sigpipe_shield& operator=(const sigpipe_shield&) = delete;

  static bool pending() noexcept
  {
    sigset_t set;
    sigemptyset(&set);
    return sigpending(&set) == 0 && sigismember(&set, SIGPIPE) == 1;
  }

private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

// Cancels a timer's wait. Boost 1.88 dropped cancel(error_code&); cancel()
// throws only if the reactor itself fails.
template <class Timer>
void cancel_timer(Timer& timer) noexcept
{
  try
  {
    timer.cancel();
  }
  catch (...)
  {}
}
} // namespace detail

class connection : public std::enable_shared_from_this<connection>
{
public:
  using callback = std::function<void(const reply*, const std::string& error)>;

  /// Starts connecting to host:port; commands issued meanwhile are queued.
  /// Throws `redis::error` if hiredis cannot even start (say, the host
  /// cannot be resolved).
  static std::shared_ptr<connection> connect(asio::any_io_executor ex, const std::string& host,
                                             int port, connection_options options = {})
  {
    auto c = std::shared_ptr<connection>(new connection(std::move(ex), std::move(options)));
    c->host_ = host;
    c->port_ = port;
    c->open();
    return c;
  }

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { close(); }

  /// True until the connection is lost or closed (also while connecting).
  bool connected() const noexcept { return ac_ != nullptr; }
  const std::string& last_error() const noexcept { return error_; }
  /// How long the connection has been lost (zero while connected or
  /// connecting after a success): callers give up past their limit.
  std::chrono::steady_clock::duration down_for() const noexcept
  {
    if (down_since_ == std::chrono::steady_clock::time_point())
      return {};
    return std::chrono::steady_clock::now() - down_since_;
  }
  /// CLIENT SETNAME `name` now and after every reconnection (no spaces).
  void set_name(std::string name)
  {
    name_ = std::move(name);
    if (ac_)
      send_name();
  }

  /// How many times the connection was made again after a loss.
  std::uint64_t reconnects() const noexcept { return reconnects_; }

  /// If lost (and not closed by close()), starts connecting again unless the
  /// backoff since the last attempt has not passed. True if connected or
  /// connecting afterwards.
  bool reconnect() noexcept
  {
    if (ac_ != nullptr)
      return true;
    if (closed_)
      return false;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_)
      return false;
    next_attempt_ = now + backoff_;
    backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, std::chrono::seconds(2));
    try
    {
      open();
      ++reconnects_;
    }
    catch (const error& e)
    {
      error_ = e.what();
    }
    return ac_ != nullptr;
  }

  /// Sends a command; `cb` runs once with the reply, or with an error
  /// message (reply null) if the connection is lost before it.
  void command(const std::vector<std::string>& args, callback cb)
  {
    if (options_.follow_moved)
    {
      // Redis Cluster: a MOVED reply names the node serving the key's slot;
      // the connection moves there and sends the command again, once (a
      // second MOVED reaches the caller, as a passing error: see
      // job.hpp's transient).
      cb = [self = shared_from_this(), args = args,
            cb = std::move(cb)](const reply* r, const std::string& err) mutable {
        if (r == nullptr || !r->is_error() || r->str.rfind("MOVED ", 0) != 0 || self->closed_)
        {
          cb(r, err);
          return;
        }
        const auto target = r->str.substr(r->str.rfind(' ') + 1);
        // Not from inside hiredis's reply callback: the context is freed.
        asio::post(self->socket_.get_executor(),
                   [self, target, args = std::move(args), cb = std::move(cb)]() mutable {
                     self->move_to(target);
                     self->command_once(args, std::move(cb));
                   });
      };
    }
    command_once(args, std::move(cb));
  }

  /// The node this connection talks to (it changes after a MOVED reply).
  std::string endpoint() const { return host_ + ":" + std::to_string(port_); }

  /// `command` without following MOVED replies.
  void command_once(const std::vector<std::string>& args, callback cb)
  {
    if (!ac_ && options_.reconnect)
      reconnect();
    if (!ac_)
    {
      cb(nullptr, "redis: not connected: " + error_);
      return;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args)
    {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* holder = new callback(std::move(cb));
    if (redisAsyncCommandArgv(ac_, &connection::on_reply, holder, static_cast<int>(args.size()),
                              argv.data(), lens.data())
        != REDIS_OK)
    {
      auto cb2 = std::move(*holder);
      delete holder;
      cb2(nullptr, "redis: cannot send the command: " + error_);
      return;
    }
    deadlines_.push_back(std::chrono::steady_clock::now() + options_.command_timeout);
    watch();
  }

  /// `command` as an awaitable: the reply, or throws `redis::error`
  /// (connection lost, or an error reply). Pass a named vector (g++ 12
  /// mishandles temporaries built inside a co_await expression).
  asio::awaitable<reply> async_command(std::vector<std::string> args)
  {
    // The initiation is a named local: g++ 12 destroys twice a temporary
    // with a vector member built inside a co_await expression.
    auto initiation = [self = shared_from_this(), args = std::move(args)](auto handler) {
      auto h = std::make_shared<decltype(handler)>(std::move(handler));
      self->command(args, [h, self](const reply* rp, const std::string& err) {
        std::exception_ptr e;
        reply copy;
        if (rp == nullptr)
          e = std::make_exception_ptr(error(err));
        else if (rp->is_error() && rp->str.rfind("NOAUTH", 0) == 0 && !self->auth_error_.empty())
          e = std::make_exception_ptr(error("redis: " + self->auth_error_)); // why, not what
        else if (rp->is_error())
          e = std::make_exception_ptr(error("redis: " + rp->str));
        else
          copy = *rp;
        // Never inside command(): the awaiting coroutine resumes later.
        auto ex = asio::get_associated_executor(*h);
        asio::post(ex, [h, e, copy = std::move(copy)]() mutable { (*h)(e, std::move(copy)); });
      });
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                            void(std::exception_ptr, reply)>(std::move(initiation),
                                                                             asio::use_awaitable);
  }

  /// Stops accepting commands, waits for the replies of those sent, then
  /// disconnects (hiredis's graceful disconnect).
  void disconnect() noexcept
  {
    closed_ = true;
    if (ac_)
      redisAsyncDisconnect(ac_);
  }

  /// Disconnects at once; commands without a reply get an error. A
  /// connection keeps its executor busy until it is closed or disconnected.
  void close() noexcept
  {
    closed_ = true;
    drop();
    detail::cancel_timer(timer_);
  }

private:
  // Makes the connection talk to `target` (host:port, or :port on the same
  // host), from a MOVED reply: the old connection is closed, commands still
  // waiting on it fail as lost (their callers send them again), the next
  // command connects at once.
  void move_to(const std::string& target)
  {
    const auto colon = target.rfind(':');
    if (colon == std::string::npos)
      return;
    auto host = target.substr(0, colon);
    if (host.empty())
      host = host_;
    const int port = std::atoi(target.c_str() + colon + 1);
    if (port <= 0 || (host == host_ && port == port_))
      return; // already there (another MOVED of the same batch)
    host_ = std::move(host);
    port_ = port;
    drop();
    next_attempt_ = {};
    backoff_ = std::chrono::milliseconds(100);
    if (!options_.reconnect && !closed_)
    {
      try
      {
        open();
      }
      catch (const error& e)
      {
        error_ = e.what();
      }
    }
  }

  connection(asio::any_io_executor ex, connection_options options)
      : socket_(ex), timer_(ex), options_(std::move(options))
  {}

  // Frees the context: pending callbacks run with a null reply.
  void drop() noexcept
  {
    if (ac_)
    {
      auto* ac = ac_;
      ac_ = nullptr;
      lost();
      redisAsyncFree(ac); // cleanup runs
    }
  }

  void lost() noexcept
  {
    if (down_since_ == std::chrono::steady_clock::time_point())
      down_since_ = std::chrono::steady_clock::now();
    connected_ = false;
    detail::cancel_timer(timer_); // nothing to watch: the executor may run out of work
  }

  // The watchdog: the connect timeout, then each command's (replies come in
  // order, so the oldest command's deadline is the one to watch).
  void watch()
  {
    if (watching_ || !ac_)
      return;
    std::chrono::steady_clock::time_point deadline;
    if (!connected_)
      deadline = connect_deadline_;
    else if (!deadlines_.empty())
      deadline = deadlines_.front();
    else
      return;
    watching_ = true;
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      self->watching_ = false;
      if (ec)
      {
        self->watch(); // cancelled: something else may need watching now
        return;
      }
      if (!self->ac_)
        return;
      const auto now = std::chrono::steady_clock::now();
      if (!self->connected_ && now >= self->connect_deadline_)
      {
        self->error_ = "cannot connect to " + self->host_ + ":" + std::to_string(self->port_)
                       + ": timed out after "
                       + std::to_string(self->options_.connect_timeout.count()) + " ms";
        self->drop();
        return;
      }
      if (self->connected_ && !self->deadlines_.empty() && now >= self->deadlines_.front())
      {
        self->error_ = "no answer from " + self->host_ + ":" + std::to_string(self->port_)
                       + " within " + std::to_string(self->options_.command_timeout.count())
                       + " ms";
        self->drop();
        return;
      }
      self->watch();
    });
  }

  void open()
  {
    const auto& host = host_;
    const int port = port_;
    deadlines_.clear();
    connected_ = false;
    connect_deadline_ = std::chrono::steady_clock::now() + options_.connect_timeout;
    ac_ = redisAsyncConnect(host.c_str(), port);
    if (ac_ == nullptr)
      throw error("redis: out of memory");
    if (ac_->err)
    {
      std::string why = ac_->errstr;
      redisAsyncFree(ac_);
      ac_ = nullptr;
      lost();
      throw error("redis: cannot connect to " + host + ":" + std::to_string(port) + ": " + why);
    }
    ac_->data = this;
    socket_.assign(ac_->c.fd);
    ac_->ev.data = this;
    ac_->ev.addRead = [](void* p) { static_cast<connection*>(p)->want(true, true); };
    ac_->ev.delRead = [](void* p) { static_cast<connection*>(p)->want(true, false); };
    ac_->ev.addWrite = [](void* p) { static_cast<connection*>(p)->want(false, true); };
    ac_->ev.delWrite = [](void* p) { static_cast<connection*>(p)->want(false, false); };
    ac_->ev.cleanup = [](void* p) { static_cast<connection*>(p)->cleanup(); };
    redisAsyncSetConnectCallback(ac_, [](const redisAsyncContext* ac, int status) {
      auto* self = static_cast<connection*>(ac->data);
      if (self == nullptr)
        return;
      if (status == REDIS_OK)
      {
        self->connected_ = true;
        self->down_since_ = {};
        self->backoff_ = std::chrono::milliseconds(100);
        if (self->options_.keepalive)
          redisEnableKeepAlive(&self->ac_->c);
        // Always reading: a connection the server closes (an idle
        // timeout, a restart) is noticed at once, not at the next command.
        self->always_read_ = true;
        self->arm(true);
        self->watch();
        return;
      }
      // hiredis frees the context after this callback (and calls no
      // disconnect callback: it never connected). Forget it now, or
      // close() would free it a second time.
      self->error_ = ac->errstr;
      self->ac_ = nullptr;
      self->lost();
    });
    redisAsyncSetDisconnectCallback(ac_, [](const redisAsyncContext* ac, int status) {
      auto* self = static_cast<connection*>(ac->data);
      if (self == nullptr)
        return;
      if (status != REDIS_OK)
        self->error_ = ac->errstr;
      else if (self->error_.empty())
        self->error_ = "closed";
      self->ac_ = nullptr; // hiredis frees the context after this callback
      self->lost();
    });
    if (!options_.password.empty())
    {
      std::vector<std::string> auth{"AUTH"};
      if (!options_.user.empty())
        auth.push_back(options_.user);
      auth.push_back(options_.password);
      // A refused AUTH fails the commands after it with NOAUTH (their
      // callers report that); the error itself names the cause.
      command(auth, [self = this](const reply* r, const std::string&) {
        if (r != nullptr && r->is_error())
          self->auth_error_ = "AUTH refused: " + r->str;
      });
    }
    if (!name_.empty())
      send_name();
    watch();
  }

  void send_name()
  {
    std::vector<std::string> cmd{"CLIENT", "SETNAME", name_};
    command(cmd, [](const reply*, const std::string&) {});
  }

  // The hooks: hiredis says whether it wants to read or write; the socket
  // waits for readiness and hands back to hiredis.
  void want(bool read, bool on)
  {
    (read ? want_read_ : want_write_) = on;
    if (on)
      arm(read);
  }

  void arm(bool read)
  {
    bool& waiting = read ? reading_ : writing_;
    if (waiting || !ac_)
      return;
    waiting = true;
    socket_.async_wait(
        read ? asio::posix::stream_descriptor::wait_read
             : asio::posix::stream_descriptor::wait_write,
        [self = shared_from_this(), read, gen = generation_](boost::system::error_code ec) {
          if (gen != self->generation_)
            return; // a wait of a context freed since (cleanup)
          (read ? self->reading_ : self->writing_) = false;
          if (ec || !self->ac_)
            return;
          if (read)
            redisAsyncHandleRead(self->ac_);
          else
          {
            const detail::sigpipe_shield shield; // the peer may have gone
            redisAsyncHandleWrite(self->ac_);
          }
          if (self->ac_ && (read ? self->want_read_ || self->always_read_ : self->want_write_))
            self->arm(read);
        });
  }

  void cleanup() noexcept
  {
    want_read_ = want_write_ = always_read_ = false;
    // The cancelled waits may complete after the next context's first
    // arm (a MOVED reply connects again at once): they are not its waits.
    ++generation_;
    reading_ = writing_ = false;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    if (socket_.is_open())
      socket_.release(); // hiredis closes the descriptor itself
  }

  static reply convert(const redisReply* r)
  {
    reply out;
    switch (r->type)
    {
    case REDIS_REPLY_STATUS:
      out.type = reply::kind::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = reply::kind::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = reply::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = reply::kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = reply::kind::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(convert(r->element[i]));
      break;
    default:
      break;
    }
    return out;
  }

  static void on_reply(redisAsyncContext* ac, void* r, void* privdata)
  {
    std::unique_ptr<callback> cb(static_cast<callback*>(privdata));
    auto* self = static_cast<connection*>(ac->data);
    if (self != nullptr && !self->deadlines_.empty())
    {
      self->deadlines_.pop_front();
      if (self->deadlines_.empty() && self->connected_)
      {
        detail::cancel_timer(self->timer_); // nothing left to watch
      }
    }
    if (r == nullptr)
    {
      std::string why = self && !self->error_.empty() ? self->error_ : "connection lost";
      (*cb)(nullptr, "redis: " + why);
      return;
    }
    const reply copy = convert(static_cast<redisReply*>(r));
    (*cb)(&copy, std::string());
  }

  redisAsyncContext* ac_ = nullptr;
  asio::posix::stream_descriptor socket_;
  asio::steady_timer timer_;
  connection_options options_;
  std::string host_, name_, auth_error_;
  std::uint64_t generation_ = 0; // of the hiredis context the socket waits belong to
  int port_ = 0;
  bool want_read_ = false, want_write_ = false, reading_ = false, writing_ = false;
  bool always_read_ = false, connected_ = false, watching_ = false, closed_ = false;
  std::string error_;
  std::deque<std::chrono::steady_clock::time_point> deadlines_; // commands sent, oldest first
  std::chrono::steady_clock::time_point connect_deadline_, down_since_, next_attempt_;
  std::chrono::milliseconds backoff_{100};
  std::uint64_t reconnects_ = 0;
};

} // namespace jobrunner::redis

#endif
