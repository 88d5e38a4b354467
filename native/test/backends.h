// Shared by the native tests: one test body runs against every backend this
// platform offers (Twisted's ReactorBuilder idea), and the fd limit is raised
// as the addon raises it, so tests can hold thousands of sockets.
#ifndef IOREACTOR_TEST_BACKENDS_H
#define IOREACTOR_TEST_BACKENDS_H

#include <functional>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "check.h"
#include "poller.h"

namespace check {

struct BackendCase {
  const char* name;
  std::function<void(ioreactor::Backend)> body;
};

// Appends "<backend>: <name>" for every available backend and every body.
inline void add_backend_cases(std::vector<Case>* cases, const std::vector<BackendCase>& bodies) {
  int count = 0;
  const ioreactor::Backend* list = ioreactor::available_backends(&count);
  for (int i = 0; i < count; ++i) {
    ioreactor::Backend b = list[i];
    for (const BackendCase& c : bodies) {
      cases->push_back({std::string(ioreactor::backend_name(b)) + ": " + c.name,
                        [b, fn = c.body] { fn(b); }});
    }
  }
}

// Raises RLIMIT_NOFILE's soft limit to the hard limit.
inline void raise_fd_limit() {
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace check

#endif  // IOREACTOR_TEST_BACKENDS_H
