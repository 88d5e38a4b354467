// poll backend: placeholder until the real one lands (next commit).
#include <cerrno>

#include "poller_internal.h"

namespace ioreactor {

std::unique_ptr<Poller> make_poll_poller(int* err) {
  *err = ENOTSUP;
  return nullptr;
}

}  // namespace ioreactor
