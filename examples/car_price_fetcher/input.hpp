// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_INPUT_HPP
#define CAR_PRICE_FETCHER_INPUT_HPP

// The fetcher's input: the CSV file (or stdin) opened, its header read and
// checked, then one row at a time (a car, or why the row is not one).
//
// - A UTF-8 byte-order mark at the start is skipped.
// - Blank lines are not rows.
// - A quoted field may hold line breaks (RFC 4180): a line whose quotes do
//   not close is joined with the next ones until they do (64 lines or
//   1 MiB at most), if the joined record then has the header's field
//   count; else that line alone is a row, invalid (unterminated quote),
//   and reading goes on at the next line. A row's line number is the line
//   it starts on.
// - A pipe or terminal is read without blocking the event loop
//   (async_fill); a regular file is read directly.

#include "csv.hpp"

#include <boost/asio.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <variant>
#include <vector>

namespace car_price {

// The input cannot be used at all (usage error, exit status 2).
class input_error : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

class input
{
public:
  using row_type = std::variant<car, bad_row>;

  // Opens `path` (- for stdin); throws input_error.
  explicit input(const std::string& path, bool count_rows = true) : path_(path)
  {
    if (path != "-")
    {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0)
        throw input_error("cannot open the input " + path + ": " + std::strerror(errno));
      owned_ = true;
    }
    struct stat st
    {};
    if (::fstat(fd_, &st) == 0)
    {
      if (S_ISDIR(st.st_mode))
        throw input_error("the input " + name() + " is a directory, not a CSV file");
      regular_ = S_ISREG(st.st_mode);
    }
    if (count_rows && regular_ && path != "-")
      total_rows_ = count(path);
  }

  input(const input&) = delete;
  input& operator=(const input&) = delete;

  ~input()
  {
    close_stream();
    if (owned_)
      ::close(fd_);
  }

  // Reads the header (the first non-blank line); throws input_error if
  // there is none or it lacks a required column.
  void read_header()
  {
    while (buffer_.size() < 3 && !eof_)
      fill_sync();
    if (buffer_.compare(0, 3, "\xEF\xBB\xBF") == 0)
      pos_ = 3; // a UTF-8 byte-order mark
    for (;;)
    {
      auto record = take_record();
      if (record)
      {
        if (csv_reader::strip_cr(*record).empty())
          continue;
        try
        {
          reader_.header(*record);
        }
        catch (const std::exception& e)
        {
          throw input_error(name() + ": line " + std::to_string(record_line_) + ": " + e.what());
        }
        return;
      }
      if (eof_ && pos_ >= buffer_.size())
        throw input_error("the input " + name()
                          + (line_number_ == 0 ? std::string(" is empty")
                                               : std::string(" holds only blank lines"))
                          + ": it needs a header line naming make, model, year, mileage");
      fill_sync();
    }
  }

  // The next row, reading as needed (blocking), or nothing at the end.
  std::optional<row_type> next()
  {
    for (;;)
    {
      if (auto row = next_buffered())
        return row;
      if (at_end())
        return std::nullopt;
      fill_sync();
    }
  }

  // The next row if it is already read (or the end is); else nothing, and
  // async_fill() reads more.
  std::optional<row_type> next_buffered()
  {
    if (abandoned_)
      return std::nullopt;
    while (auto record = take_record())
      if (!csv_reader::strip_cr(*record).empty())
        return reader_.row(*record, record_line_);
    return std::nullopt;
  }

  bool at_end() const noexcept { return abandoned_ || (eof_ && pos_ >= buffer_.size()); }

  // Stops reading: a pending async_fill completes with operation_aborted,
  // and the input ends here (at lines_read()).
  void abandon()
  {
    abandoned_ = true;
    if (stream_)
      stream_->cancel();
  }
  bool abandoned() const noexcept { return abandoned_; }
  // Closes the stream descriptor async_fill opened (before its io_context
  // goes: the descriptor belongs to it).
  // Asio leaves the descriptor non-blocking, and the flag belongs to the
  // open file, shared with whoever gave us stdin: it is restored.
  void close_stream() noexcept
  {
    if (!stream_)
      return;
    const int flags = ::fcntl(stream_->native_handle(), F_GETFL);
    if (flags >= 0 && !was_non_blocking_)
      ::fcntl(stream_->native_handle(), F_SETFL, flags & ~O_NONBLOCK);
    stream_.reset();
  }
  // The lines consumed so far (rows, blank lines, the header).
  std::size_t lines_read() const noexcept { return line_number_; }
  // A pipe, terminal or socket: may stall, or never end.
  bool is_stream() const noexcept { return !regular_; }

  // Reads more input without blocking the event loop (a pipe or terminal
  // through a stream descriptor; a regular file directly). Throws
  // system_error (operation_aborted when the coroutine is cancelled).
  boost::asio::awaitable<void> async_fill()
  {
    namespace asio = boost::asio;
    if (regular_)
    {
      fill_sync();
      co_return;
    }
    if (!stream_)
    {
      // A duplicate: closing it never closes stdin, and it is the
      // duplicate that is made non-blocking (until closed).
      const int fd = ::dup(fd_);
      if (fd < 0)
        throw boost::system::system_error(errno, boost::system::system_category(),
                                          "reading the input " + name());
      const int flags = ::fcntl(fd, F_GETFL);
      was_non_blocking_ = flags >= 0 && (flags & O_NONBLOCK) != 0;
      stream_.emplace(co_await asio::this_coro::executor, fd);
    }
    compact();
    const auto old = buffer_.size();
    buffer_.resize(old + chunk);
    auto [ec, n] = co_await stream_->async_read_some(asio::buffer(buffer_.data() + old, chunk),
                                                     asio::as_tuple(asio::use_awaitable));
    buffer_.resize(old + n);
    if (ec == asio::error::eof)
      eof_ = true;
    else if (ec)
      throw boost::system::system_error(ec, "reading the input " + name());
  }

  const std::string& path() const noexcept { return path_; }
  // The data rows in the file (0: unknown, stdin).
  std::size_t total_rows() const noexcept { return total_rows_; }

private:
  static constexpr std::size_t chunk = 64 * 1024;
  static constexpr std::size_t max_joined_lines = 64;
  static constexpr std::size_t max_record_bytes = 1024 * 1024;

  std::string name() const { return path_ == "-" ? std::string("(stdin)") : path_; }

  static std::size_t count(const std::string& path)
  {
    try
    {
      input in(path, false);
      in.read_header();
      std::size_t n = 0;
      for (;;)
      {
        if (in.next_buffered())
          ++n;
        else if (in.at_end())
          return n;
        else
          in.fill_sync();
      }
    }
    catch (const std::exception&)
    {
      return 0;
    }
  }

  void compact()
  {
    if (pos_ > chunk && pos_ * 2 > buffer_.size())
    {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
  }

  void fill_sync()
  {
    if (eof_)
      return;
    compact();
    const auto old = buffer_.size();
    buffer_.resize(old + chunk);
    for (;;)
    {
      const auto n = ::read(fd_, buffer_.data() + old, chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
      {
        const int e = errno;
        buffer_.resize(old);
        throw boost::system::system_error(e, boost::system::system_category(),
                                          "reading the input " + name());
      }
      buffer_.resize(old + static_cast<std::size_t>(n));
      if (n == 0)
        eof_ = true;
      return;
    }
  }

  static bool odd_quotes(std::string_view s, bool open)
  {
    for (char c : s)
      if (c == '"')
        open = !open;
    return open;
  }

  // The next record's text (without its line break), consumed, with its
  // first line in record_line_; nothing if more input is needed or at the end.
  std::optional<std::string> take_record()
  {
    if (pos_ >= buffer_.size())
      return std::nullopt;
    auto line_end = [&](std::size_t from) -> std::optional<std::size_t> {
      const auto nl = buffer_.find('\n', from);
      if (nl != std::string::npos)
        return nl;
      if (eof_)
        return buffer_.size();
      return std::nullopt; // the line is not complete yet
    };
    const auto first = line_end(pos_);
    if (!first)
      return std::nullopt;
    std::size_t end = *first;
    std::size_t lines = 1;
    bool open = odd_quotes(std::string_view(buffer_).substr(pos_, end - pos_), false);
    if (open && reader_.width() != 0)
    {
      // A quoted field with line breaks: join lines until the quote closes.
      std::size_t joined_end = end;
      std::size_t joined = 1;
      while (open && joined < max_joined_lines && joined_end < buffer_.size()
             && joined_end - pos_ < max_record_bytes)
      {
        const auto next = line_end(joined_end + 1);
        if (!next)
          return std::nullopt; // wait for the rest of the record
        open = odd_quotes(std::string_view(buffer_).substr(joined_end, *next - joined_end), open);
        joined_end = *next;
        ++joined;
      }
      if (!open)
      {
        const auto text =
            csv_reader::strip_cr(std::string_view(buffer_).substr(pos_, joined_end - pos_));
        std::vector<std::string> fields;
        std::string error;
        if (split_csv(text, fields, error) && fields.size() == reader_.width())
        {
          end = joined_end;
          lines = joined;
        }
      }
    }
    std::string record = buffer_.substr(pos_, end - pos_);
    pos_ = end + 1;
    record_line_ = line_number_ + 1;
    line_number_ += lines;
    return record;
  }

  std::string path_;
  int fd_ = STDIN_FILENO;
  bool owned_ = false;
  bool regular_ = false;
  std::optional<boost::asio::posix::stream_descriptor> stream_;
  std::string buffer_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  bool abandoned_ = false;
  bool was_non_blocking_ = false;
  std::size_t total_rows_ = 0;
  csv_reader reader_;
  std::size_t line_number_ = 0; // lines consumed
  std::size_t record_line_ = 0; // the line the last record started on
};

} // namespace car_price

#endif
