// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The Redis connection's SIGPIPE shield (jobrunner/redis/connection.hpp):
// hiredis writes without MSG_NOSIGNAL, and a write on a connection the
// server dropped would end the process. Without the shield, the first write
// below kills this test program with SIGPIPE.
#include <jobrunner/redis/connection.hpp>

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#else
#include <catch2/catch.hpp>
#endif

#include <cerrno>
#include <csignal>
#include <pthread.h>
#include <unistd.h>

using jobrunner::redis::detail::sigpipe_shield;

namespace {

// A pipe whose reading end is closed: writing to it raises SIGPIPE.
struct broken_pipe
{
  int fds[2] = {-1, -1};
  broken_pipe()
  {
    REQUIRE(::pipe(fds) == 0);
    ::close(fds[0]);
  }
  ~broken_pipe() { ::close(fds[1]); }
  broken_pipe(const broken_pipe&) = delete;
  broken_pipe& operator=(const broken_pipe&) = delete;
  int write_one() const
  {
    const char c = 'x';
    const auto n = ::write(fds[1], &c, 1);
    return n < 0 ? errno : 0;
  }
};

bool pipe_blocked()
{
  sigset_t mask;
  sigemptyset(&mask);
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

} // namespace

TEST_CASE("a write on a broken connection under the shield fails with EPIPE, and nothing is left",
          "[redis][signal]")
{
  broken_pipe p;
  REQUIRE_FALSE(pipe_blocked());
  int error = 0;
  {
    const sigpipe_shield shield;
    CHECK(pipe_blocked());
    error = p.write_one(); // without the shield: the process ends here
  }
  CHECK(error == EPIPE);
  CHECK_FALSE(sigpipe_shield::pending()); // taken back
  CHECK_FALSE(pipe_blocked());            // the mask as it was
  // Again: the shield works for every write, not only the first.
  {
    const sigpipe_shield shield;
    error = p.write_one();
  }
  CHECK(error == EPIPE);
  CHECK_FALSE(sigpipe_shield::pending());
}

TEST_CASE("a SIGPIPE pending before the shield stays pending, and a blocked one stays blocked",
          "[redis][signal]")
{
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t old;
  REQUIRE(pthread_sigmask(SIG_BLOCK, &pipe_only, &old) == 0);
  REQUIRE(pthread_kill(pthread_self(), SIGPIPE) == 0);
  REQUIRE(sigpipe_shield::pending());
  broken_pipe p;
  {
    const sigpipe_shield shield;
    CHECK(p.write_one() == EPIPE);
  }
  CHECK(sigpipe_shield::pending()); // not the shield's to take
  CHECK(pipe_blocked());            // the caller's mask, kept
  const timespec zero{};
  CHECK(sigtimedwait(&pipe_only, nullptr, &zero) == SIGPIPE);
  CHECK_FALSE(sigpipe_shield::pending());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}
