// Send helpers and the pending-write buffer (see write_buffer.h for why it is
// one contiguous buffer).
#include "write_buffer.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <new>

#include "syscalls.h"

namespace ioreactor {

namespace {
#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;  // macOS: sockets get SO_NOSIGPIPE instead
#endif

// Above this capacity an emptied buffer gives its memory back: an idle
// connection among tens of thousands should not hold a burst's worth.
constexpr size_t kKeepCapacity = 64 * 1024;

ssize_t result(ssize_t n) {
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
  return -errno;
}
}  // namespace

ssize_t send_bytes(int fd, bool is_socket, const uint8_t* data, size_t len) {
  ssize_t n;
  do {
    n = is_socket ? sys::send(fd, data, len, kSendFlags) : sys::write(fd, data, len);
  } while (n < 0 && errno == EINTR);
  return result(n);
}

ssize_t send_iov(int fd, bool is_socket, const struct iovec* iov, int count) {
  ssize_t n;
  do {
    if (is_socket) {
      struct msghdr msg;
      std::memset(&msg, 0, sizeof msg);
      msg.msg_iov = const_cast<struct iovec*>(iov);
      msg.msg_iovlen = static_cast<decltype(msg.msg_iovlen)>(count);
      n = sys::sendmsg(fd, &msg, kSendFlags);
    } else {
      n = sys::writev(fd, iov, count);
    }
  } while (n < 0 && errno == EINTR);
  return result(n);
}

int WriteBuffer::append(const uint8_t* data, size_t len) {
  if (len == 0) return 0;
  if (sys::injected(fault::Call::kWriteBuffer)) return -ENOMEM;
  // Move the live bytes to the front only when that costs no more than what
  // has already been sent, so each byte moves at most once on average.
  if (head_ > 0 && head_ >= data_.size() - head_) {
    data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  // A peer that never reads can make this grow without bound; running out of
  // memory fails this stream's write, not the process.
  try {
    data_.insert(data_.end(), data, data + len);
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
  return 0;
}

void WriteBuffer::consumed(size_t n) {
  head_ += n;
  if (head_ < data_.size()) return;
  head_ = 0;
  data_.clear();
  if (data_.capacity() > kKeepCapacity) data_.shrink_to_fit();
}

int WriteBuffer::flush(int fd, bool is_socket) {
  if (empty()) return 0;
  ssize_t n = send_bytes(fd, is_socket, data_.data() + head_, size());
  if (n < 0) return static_cast<int>(n);
  consumed(static_cast<size_t>(n));
  return 0;
}

}  // namespace ioreactor
