// The orphan reaper: one thread for the whole process, shared by every Loop
// (and every Worker's loops), that reaps children nobody watches any more.
//
// A child slot whose loop closes (or that is removed) before its process was
// reaped hands the process over here: its pid and its exit fd (a pidfd; a
// kqueue watching the pid on BSD and macOS). The thread poll()s every exit fd
// it holds plus a wake-up pipe, so any number of orphans costs one thread,
// which ends when none are left and starts again with the next one.
//
// Nothing here throws or blocks the caller, so it is safe from destructors,
// GC finalizers and environment teardown. When the thread cannot be started
// (RLIMIT_NPROC, a busy container) the orphans wait in the list: each later
// adopt() or kick() reaps the ones that have exited and tries the thread
// again, and until then they are at worst zombies, never an abort.
#ifndef IOREACTOR_REAPER_H
#define IOREACTOR_REAPER_H

#include <sys/types.h>

#include <cstddef>

namespace ioreactor {
namespace reaper {

// Takes charge of child `pid` and of `exit_fd`, which the reaper owns (and
// closes) from now on. Reaps it at once when it has exited already.
void adopt(pid_t pid, int exit_fd) noexcept;

// Reaps orphans that have exited and starts the thread if orphans wait
// without one (an earlier start failed). Loop calls it when it is created and
// before each spawn, so a failed start is retried at the next activity.
void kick() noexcept;

// Orphans not reaped yet, and whether the thread runs (tests).
size_t waiting() noexcept;
bool thread_running() noexcept;

}  // namespace reaper
}  // namespace ioreactor

#endif  // IOREACTOR_REAPER_H
