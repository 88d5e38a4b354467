// The write side of streams: write()/writev() send at once when nothing is
// queued (during a delivery they are gathered first: loop_cork.cc), copy
// only what the kernel refused, and arm writable interest only
// while something is queued; shutdown_write waits for the queue to drain;
// finish is the end of a connection (close_notify, then remove when nothing
// is left to send).
#include <errno.h>
#include <limits.h>
#include <sys/ioctl.h>
#if defined(__linux__)
#include <linux/sockios.h>  // SIOCOUTQ
#endif
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <vector>

#include "loop_impl.h"

namespace ioreactor {

namespace {
#ifdef IOV_MAX
constexpr int kMaxIov = IOV_MAX;
#else
constexpr int kMaxIov = 1024;
#endif

// Copies what is left of iov after `sent` bytes into the buffer, in order.
// Returns 0 or -ENOMEM.
int append_rest(WriteBuffer* buf, const struct iovec* iov, int count, size_t sent) {
  for (int i = 0; i < count; ++i) {
    const auto* base = static_cast<const uint8_t*>(iov[i].iov_base);
    size_t len = iov[i].iov_len;
    size_t skip = std::min(sent, len);
    sent -= skip;
    int err = buf->append(base + skip, len - skip);
    if (err != 0) return err;
  }
  return 0;
}
}  // namespace

int64_t Loop::Impl::write_iov(int32_t index, const struct iovec* iov, int count) {
  Slot* s = stream(index);
  if (s == nullptr) return -EBADF;
  if (s->dead || s->shut_pending || s->shut_done) return -EPIPE;
  if (s->tls) return write_tls(index, iov, count);
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  if (total == 0) return static_cast<int64_t>(s->pending());
  if (cork(index, s, iov, count, total)) return 0;
  if (s->corked >= 0) {  // what it gathered goes first
    int err = uncork(index);
    if (err != 0) return err;
  }
  return send_or_keep(index, iov, count, total);
}

// Sends at once when nothing is queued; queues what the kernel refused (or
// everything, while connecting or behind a queue) and arms writable interest.
int64_t Loop::Impl::send_or_keep(int32_t index, const struct iovec* iov, int count, size_t total) {
  Slot* s = slots.find(index);
  size_t sent = 0;
  if (!s->connecting && s->pending() == 0) {
    ssize_t n = count == 1
        ? send_bytes(s->fd, s->is_socket, static_cast<const uint8_t*>(iov[0].iov_base), total)
        : send_iov(s->fd, s->is_socket, iov, std::min(count, kMaxIov));
    if (n < 0) return n;
    sent = static_cast<size_t>(n);
    if (sent == total) return 0;
  }
  if (!s->wbuf) s->wbuf.reset(new WriteBuffer());
  int err = append_rest(s->wbuf.get(), iov, count, sent);
  if (err != 0) {
    // Part of this write may be sent or queued already: the byte stream has a
    // hole, so the stream is dead. The caller learns it from the return value.
    s->dead = true;
    set_interest(index, 0);
    return err;
  }
  err = update_stream(index);
  if (err != 0) return err;
  return static_cast<int64_t>(s->pending());
}

int64_t Loop::write(int32_t slot, const uint8_t* data, size_t len) {
  if (data == nullptr && len > 0) return -EINVAL;
  struct iovec one;
  one.iov_base = const_cast<uint8_t*>(data);
  one.iov_len = len;
  return impl_->write_iov(slot, &one, 1);
}

int64_t Loop::writev(int32_t slot, const uint8_t* const* bufs, const size_t* lens, int count) {
  if (count < 0 || (count > 0 && (bufs == nullptr || lens == nullptr))) return -EINVAL;
  IovArray pieces(count);
  struct iovec* iov = pieces.data();
  for (int i = 0; i < count; ++i) {
    if (bufs[i] == nullptr && lens[i] > 0) return -EINVAL;
    iov[i].iov_base = const_cast<uint8_t*>(bufs[i]);
    iov[i].iov_len = lens[i];
  }
  return impl_->write_iov(slot, iov, count);
}

int64_t Loop::buffered(int32_t slot) {
  const Slot* s = impl_->slots.find(slot);
  if (s == nullptr || s->kind != Kind::kStream) return -EBADF;
  if (s->corked >= 0) {  // asked from JS: what it gathered goes to the kernel first
    uint32_t gen = s->gen;
    int err = impl_->uncork(slot);
    if (err != 0) {
      impl_->stream_failed(slot, gen, err);
      return err;
    }
    s = impl_->slots.find(slot);
  }
  return static_cast<int64_t>(s->pending() + impl_->tls_held(*s));
}

// What the kernel still holds to send on `fd`: Linux's SIOCOUTQ, macOS's
// SO_NWRITE; 0 where neither exists (the caller then sees only buffered()).
static int64_t send_queue_of(int fd) {
#if defined(SIOCOUTQ)
  int n = 0;
  if (ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0) return n;
#elif defined(SO_NWRITE)
  int n = 0;
  socklen_t len = sizeof n;
  if (getsockopt(fd, SOL_SOCKET, SO_NWRITE, &n, &len) == 0 && n > 0) return n;
#else
  (void)fd;
#endif
  return 0;
}

int64_t Loop::kernel_send_queue(int32_t slot) {
  const Slot* s = impl_->slots.find(slot);
  return s == nullptr ? -EBADF : send_queue_of(s->fd);
}

int Loop::shutdown_write(int32_t slot) {
  Slot* s = impl_->stream(slot);
  if (s == nullptr) return -EBADF;
  if (!s->is_socket) return -ENOTSOCK;
  if (s->dead) return -ENOTCONN;
  if (s->shut_done || s->shut_pending) return 0;
  if (s->tls) return impl_->shutdown_tls(slot);
  int err = impl_->uncork(slot);
  if (err != 0) return err;
  s = impl_->stream(slot);
  if (s->connecting || s->pending() != 0) {
    s->shut_pending = true;
    return 0;
  }
  if (::shutdown(s->fd, SHUT_WR) < 0) return -errno;
  s->shut_done = true;
  return 0;
}

int64_t Loop::finish(int32_t slot) {
  if (tls(slot) != nullptr) shutdown_write(slot);  // -ENOTCONN on a dead stream: nothing to send
  int64_t left = buffered(slot);
  if (left != 0) return left;
  return remove(slot);
}

}  // namespace ioreactor
