// sockets::probe_unix_listener, the check listenUNIX makes before it
// reclaims a socket file: a live listener answers 0 (its connection is
// closed at once), a socket file nobody listens on ECONNREFUSED, a missing
// path ENOENT, and a path spelled differently reaches the same listener.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "check.h"
#include "sockets.h"

using namespace ioreactor;

namespace {

// A fresh directory under /tmp; removed by the test.
std::string temp_dir() {
  char tmpl[] = "/tmp/ioreactor-probe-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  return dir != nullptr ? dir : "";
}

void test_live_stale_missing() {
  std::string dir = temp_dir();
  if (!check::that(!dir.empty(), "mkdtemp")) return;
  std::string path = dir + "/s";
  int fds_before = check::open_fds();
  int fd = -1;
  check::eq(sockets::open_listener(SockAddr{0, path, 0}, 8, false, &fd), 0, "listen");
  check::eq(sockets::probe_unix_listener(path), 0, "live listener");
  check::eq(sockets::probe_unix_listener(dir + "//s"), 0, "the same listener through '//'");
  ::close(fd);  // the file stays: a stale socket
  check::eq(sockets::probe_unix_listener(path), -ECONNREFUSED, "stale socket file");
  ::unlink(path.c_str());
  check::eq(sockets::probe_unix_listener(path), -ENOENT, "missing path");
  check::eq(sockets::probe_unix_listener(""), -EINVAL, "empty path");
  check::eq(check::open_fds(), fds_before, "no fd left open");
  ::rmdir(dir.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all({{"live, stale, missing", test_live_stale_missing}}, argc, argv);
}
