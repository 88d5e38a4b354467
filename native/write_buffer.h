// The per-stream pending-write buffer and the send helpers the write path
// shares with it. Writes are tried at once; only what the kernel refused is
// copied here, in order, and flushed when the poller says writable.
//
// One contiguous buffer with a moving head: a flush is one send() of
// everything pending (level-triggered, so one call per writable event is
// enough), and compaction is amortised by only moving bytes once the consumed
// head is at least half the buffer.
#ifndef IOREACTOR_WRITE_BUFFER_H
#define IOREACTOR_WRITE_BUFFER_H

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ioreactor {

// One send of len bytes: send(MSG_NOSIGNAL) on sockets (never SIGPIPE),
// write() on pipes. Returns bytes sent, 0 on EAGAIN, or -errno.
ssize_t send_bytes(int fd, bool is_socket, const uint8_t* data, size_t len);
// The same for an iovec array (sendmsg / writev).
ssize_t send_iov(int fd, bool is_socket, const struct iovec* iov, int count);

class WriteBuffer {
 public:
  size_t size() const { return data_.size() - head_; }
  bool empty() const { return head_ == data_.size(); }
  // Copies len bytes to the end. Returns 0, or -ENOMEM when the memory is not
  // there (the buffer is then unchanged).
  int append(const uint8_t* data, size_t len);
  // Sends what the kernel takes in one call. Returns 0 or -errno
  // (EAGAIN is not an error: the buffer simply stays non-empty).
  int flush(int fd, bool is_socket);

 private:
  void consumed(size_t n);

  std::vector<uint8_t> data_;
  size_t head_ = 0;
};

}  // namespace ioreactor

#endif  // IOREACTOR_WRITE_BUFFER_H
