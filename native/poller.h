// The poller interface: one small method set, three backends (epoll, kqueue,
// poll), one file each. Nothing here knows about Node; ctest drives it alone.
//
// A registration carries a 64-bit token chosen by the caller (the loop puts a
// slot index and a generation in it), so an event is never confused with a
// later registration that happens to reuse the same fd number.
//
// The error convention of all of native/ (libuv's): a function that can fail
// returns 0 or a non-negative result (a count, an fd, bytes) on success and
// -errno on failure, always; an `int* err` out-parameter of a factory holds
// -errno too. Nothing is converted on the way up: the first function to read
// errno negates it, and the value travels unchanged to the bridge, which
// hands it to JS as it is (lib/native.ts makes the error). The seams in
// syscalls.h keep the libc shape they stand in for (-1 with errno set).
// The only positive errno values are data, never a return: the a field of
// kRecError, kRecConnected and kRecAcceptError records (loop.h; the loop
// negates once where it pushes them), the errno a fault is armed with
// (fault.h), and errno itself.
#ifndef IOREACTOR_POLLER_H
#define IOREACTOR_POLLER_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace ioreactor {

// Interest and reported events. ERROR and HANGUP are always reported.
enum Events : uint32_t {
  kReadable = 1u << 0,
  kWritable = 1u << 1,
  kError = 1u << 2,
  kHangup = 1u << 3,
};

// Every Events bit: the widest interest a caller may ask for.
constexpr uint32_t kAllEvents = kReadable | kWritable | kError | kHangup;

enum class Trigger : uint8_t { kLevel, kEdge };

struct Mode {
  Trigger trigger = Trigger::kLevel;
  bool oneshot = false;  // report once, then stay silent until modify()
};

struct PollEvent {
  uint64_t token;
  uint32_t events;
};

enum class Backend : uint8_t { kEpoll, kKqueue, kPoll };

// add/modify/remove return 0, or -errno: -EEXIST for a second add, -ENOENT
// for modify/remove of an unknown fd, -EBADF for a closed fd, -ENOTSUP for a
// mode the backend cannot honour.
class Poller {
 public:
  virtual ~Poller() = default;

  virtual int add(int fd, uint32_t interest, Mode mode, uint64_t token) = 0;
  virtual int modify(int fd, uint32_t interest, Mode mode, uint64_t token) = 0;
  virtual int remove(int fd) = 0;

  // Blocks up to timeout_ms (-1 forever, 0 not at all). Returns the number of
  // events written to out (at most max), or -errno. EINTR returns 0.
  virtual int wait(int timeout_ms, PollEvent* out, int max) = 0;

  // An fd that becomes readable when wait() would report something, for
  // embedding in another loop (uv_poll_t); -1 when the backend has none and
  // needs a waiter thread.
  virtual int pollable_fd() const = 0;

  // Interrupts a wait() blocked in another thread (the waiter thread case).
  // Safe to call from any thread.
  virtual void wake() = 0;

  virtual Backend backend() const = 0;
  virtual bool supports(Mode mode) const = 0;

  // Kernel waits (poll/epoll_wait/kevent calls) that have returned: what a
  // wake-up costs, counted so tests can prove a batch of changes costs O(1)
  // of them. Safe to read from any thread.
  uint64_t kernel_waits() const { return kernel_waits_.load(std::memory_order_relaxed); }

 protected:
  void count_kernel_wait() { kernel_waits_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> kernel_waits_{0};
};

// Creates a poller, or returns nullptr and sets *err (-errno, or -ENOTSUP when
// the backend is not built for this platform).
std::unique_ptr<Poller> make_poller(Backend backend, int* err);

// Backends this build offers, best first. The first is the default.
const Backend* available_backends(int* count);
const char* backend_name(Backend backend);
bool backend_from_name(const std::string& name, Backend* out);

}  // namespace ioreactor

#endif  // IOREACTOR_POLLER_H
