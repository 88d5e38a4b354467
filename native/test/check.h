// A tiny check library for the native tests: no framework, no macros. Each
// check records the caller's file and line through __builtin_FILE/LINE
// (GCC and Clang), prints a line on failure and counts it; run_all() returns
// the process exit code, so ctest sees any failure.
#ifndef IOREACTOR_TEST_CHECK_H
#define IOREACTOR_TEST_CHECK_H

#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace check {

inline int& failures() {
  static int count = 0;
  return count;
}

// Records a failure unless ok; returns ok so a test can bail out early.
inline bool that(bool ok, const std::string& what,
                 const char* file = __builtin_FILE(),
                 int line = __builtin_LINE()) {
  if (!ok) {
    ++failures();
    std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
  }
  return ok;
}

// Equality of two integers, printing both on failure.
inline bool eq(long long got, long long want, const std::string& what,
               const char* file = __builtin_FILE(),
               int line = __builtin_LINE()) {
  return that(got == want,
              what + " (got " + std::to_string(got) + ", want " +
                  std::to_string(want) + ")",
              file, line);
}

// How many fds this process has open (entries of /proc/self/fd, the
// directory's own fd included), or -1 without /proc: for no-leak checks.
inline int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

// True when running under valgrind (its preload library is in LD_PRELOAD).
inline bool under_valgrind() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::strstr(preload, "vgpreload") != nullptr;
}

struct Case {
  std::string name;
  std::function<void()> body;
};

// Runs every case, printing its name and whether it failed (a case that
// throws fails). A name given on
// the command line runs only the cases containing it.
inline int run_all(const std::vector<Case>& cases, int argc, char** argv) {
  std::string filter = argc > 1 ? argv[1] : "";
  for (const Case& c : cases) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    int before = failures();
    try {
      c.body();
    } catch (const std::exception& e) {
      that(false, c.name + " threw: " + e.what());
    }
    std::printf("%s %s\n", failures() == before ? "ok  " : "FAIL", c.name.c_str());
  }
  std::printf("%d failure(s)\n", failures());
  return failures() == 0 ? 0 : 1;
}

}  // namespace check

#endif  // IOREACTOR_TEST_CHECK_H
