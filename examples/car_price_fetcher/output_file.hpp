// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_OUTPUT_FILE_HPP
#define CAR_PRICE_FETCHER_OUTPUT_FILE_HPP

// Where the output goes, so that a failed run never leaves a truncated file
// where a good one was:
// - a regular file (or a new one) is written to a temporary file beside it
//   (.NAME.XXXXXX, same directory) that commit() flushes, syncs and renames
//   over NAME; a run that fails to write, or dies, leaves NAME as it was
//   (a run killed with SIGKILL also leaves its temporary file);
// - stdout (-), a device or a FIFO is written directly.
// Every write is checked: the first failure is kept (error()), and later
// writes are dropped.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace car_price {

class output_file
{
public:
  // Throws std::runtime_error when the output cannot be created.
  explicit output_file(std::string path) : path_(std::move(path))
  {
    if (path_ == "-")
    {
      fd_ = STDOUT_FILENO;
      return;
    }
    struct stat st
    {};
    const bool exists = ::stat(path_.c_str(), &st) == 0;
    if (exists && !S_ISREG(st.st_mode))
    {
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0)
        throw std::runtime_error("cannot open the output " + path_ + ": " + std::strerror(errno));
      return;
    }
    const auto slash = path_.rfind('/');
    const std::string dir = slash == std::string::npos ? std::string() : path_.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? path_ : path_.substr(slash + 1);
    temp_ = dir + "." + base + ".XXXXXX";
    replaces_ = true;
    fd_ = ::mkstemp(temp_.data());
    if (fd_ < 0)
    {
      const std::string reason = std::strerror(errno);
      temp_.clear();
      throw std::runtime_error("cannot create the output " + path_ + " (a temporary file in "
                               + (dir.empty() ? std::string("./") : dir) + "): " + reason);
    }
    // mkstemp makes it 0600: give it the old file's mode, or the usual one.
    mode_t mode = 0;
    if (exists)
      mode = st.st_mode & 07777;
    else
    {
      const mode_t mask = ::umask(0);
      ::umask(mask);
      mode = static_cast<mode_t>(0666 & ~mask);
    }
    ::fchmod(fd_, mode);
  }

  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;

  ~output_file()
  {
    if (fd_ >= 0 && fd_ != STDOUT_FILENO)
      ::close(fd_);
    if (!temp_.empty())
      ::unlink(temp_.c_str());
  }

  void write(std::string_view text)
  {
    if (!error_.empty())
      return;
    buffer_.append(text);
    if (buffer_.size() >= 64 * 1024)
      drain();
  }

  // Writes what is buffered, syncs a file, and renames the temporary file
  // over the output. False (with error()) if any of it failed: the output
  // is then left as it was (or, written directly, incomplete).
  bool commit()
  {
    drain();
    if (error_.empty() && fd_ != STDOUT_FILENO && !temp_.empty() && ::fsync(fd_) != 0)
      fail("syncing");
    if (fd_ >= 0 && fd_ != STDOUT_FILENO)
    {
      if (::close(fd_) != 0 && error_.empty())
        fail("closing");
      fd_ = -1;
    }
    if (error_.empty() && !temp_.empty())
    {
      if (::rename(temp_.c_str(), path_.c_str()) != 0)
        fail("renaming " + temp_ + " to");
      else
        temp_.clear();
    }
    return error_.empty();
  }

  bool failed() const noexcept { return !error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  // Whether a failure leaves the old file as it was (else the output was
  // written directly and is incomplete).
  bool replaces() const noexcept { return replaces_; }
  const std::string& path() const noexcept { return path_; }

private:
  void drain()
  {
    std::size_t done = 0;
    while (error_.empty() && done < buffer_.size())
    {
      const auto n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
      {
        fail("writing");
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

  void fail(const std::string& what)
  {
    const int e = errno;
    error_ = what + " the output " + (path_ == "-" ? std::string("(stdout)") : path_)
             + " failed: " + std::strerror(e);
  }

  std::string path_;
  std::string temp_; // the temporary file until renamed; empty if written directly
  bool replaces_ = false;
  int fd_ = -1;
  std::string buffer_;
  std::string error_;
};

} // namespace car_price

#endif
