// Fault injection for tests: a small table, one entry per wrapped call
// (syscalls.h), saying which errno to fail with and how many times. Only a
// build compiled with -DIOREACTOR_FAULTS consults it; everywhere else
// kEnabled is false, the wrappers compile to the direct call and nothing
// here is ever referenced.
//
// The table is process-wide (one per process, not per Loop or Worker): a
// test arms a fault, provokes the call, and clears it.
#ifndef IOREACTOR_FAULT_H
#define IOREACTOR_FAULT_H

#include <cstdint>
#include <string>

namespace ioreactor {
namespace fault {

#ifdef IOREACTOR_FAULTS
constexpr bool kEnabled = true;
#else
constexpr bool kEnabled = false;
#endif

// The calls a fault can be injected into; names() spells them for JS.
enum class Call : uint8_t {
  kAccept,     // accept4 / accept on a listener
  kRead,       // a stream's read: recv() on a socket, read() on a pipe or tty
  kWrite,      // write() to a pipe
  kWritev,     // writev() to a pipe
  kSend,       // send() to a socket
  kSendmsg,    // sendmsg() to a socket (writev of several chunks)
  kPollerCtl,  // epoll_ctl add/modify/remove
  kClose,      // close(): the fd is still closed, as Linux always does
  kWaitid,     // waitid() reaping a child
  kPidfdOpen,  // pidfd_open()
  kWriteBuffer,  // growing a stream's pending-write buffer
  kSlab,         // a new read slab from the sink
  kThread,       // pthread_create() of the orphan reaper (reaper.cc)
  kCount,
};

// Arms call to fail with err for the next `count` calls (count < 0: until
// cleared), after letting `skip` calls through first.
void set(Call call, int err, int count, int skip = 0);
void clear();
// Failures injected into call since the last clear().
uint64_t hits(Call call);
// The errno to fail this call with, or 0 to let it through.
int take(Call call);

const char* name(Call call);
bool from_name(const std::string& name, Call* out);

}  // namespace fault
}  // namespace ioreactor

#endif  // IOREACTOR_FAULT_H
