// The fault table (see fault.h). A mutex guards it: the poll backend's waiter
// thread never calls a wrapped function, but the orphan reaper's thread calls
// waitid (reaper.cc), a test may arm faults from another thread, and the
// fault build is not about speed.
#include "fault.h"

#include <mutex>

namespace ioreactor {
namespace fault {

namespace {

struct Entry {
  int err = 0;
  int count = 0;  // < 0: forever
  int skip = 0;
  uint64_t hits = 0;
};

constexpr size_t kCalls = static_cast<size_t>(Call::kCount);

const char* const kNames[kCalls] = {
    "accept", "read",  "write",  "writev",    "send",        "sendmsg",
    "poller_ctl", "close", "waitid", "pidfd_open", "write_buffer", "slab", "thread",
};

std::mutex& table_mutex() {
  static std::mutex m;
  return m;
}

Entry* table() {
  static Entry entries[kCalls];
  return entries;
}

}  // namespace

void set(Call call, int err, int count, int skip) {
  std::lock_guard<std::mutex> lock(table_mutex());
  Entry& e = table()[static_cast<size_t>(call)];
  e.err = err;
  e.count = count;
  e.skip = skip;
}

void clear() {
  std::lock_guard<std::mutex> lock(table_mutex());
  for (size_t i = 0; i < kCalls; ++i) table()[i] = Entry();
}

uint64_t hits(Call call) {
  std::lock_guard<std::mutex> lock(table_mutex());
  return table()[static_cast<size_t>(call)].hits;
}

int take(Call call) {
  std::lock_guard<std::mutex> lock(table_mutex());
  Entry& e = table()[static_cast<size_t>(call)];
  if (e.count == 0 || e.err == 0) return 0;
  if (e.skip > 0) {
    --e.skip;
    return 0;
  }
  if (e.count > 0) --e.count;
  ++e.hits;
  return e.err;
}

const char* name(Call call) {
  size_t i = static_cast<size_t>(call);
  return i < kCalls ? kNames[i] : "?";
}

bool from_name(const std::string& text, Call* out) {
  for (size_t i = 0; i < kCalls; ++i) {
    if (text == kNames[i]) {
      *out = static_cast<Call>(i);
      return true;
    }
  }
  return false;
}

}  // namespace fault
}  // namespace ioreactor
