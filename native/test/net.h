// Shared by the native socket tests: a SockAddr as JS would pass one.
#ifndef IOREACTOR_TEST_NET_H
#define IOREACTOR_TEST_NET_H

#include <string>

#include "loop.h"

// family 4, 6 or 0 (UNIX), host or path, port.
inline ioreactor::SockAddr addr(int family, const std::string& host, int port) {
  ioreactor::SockAddr a;
  a.family = family;
  a.host = host;
  a.port = port;
  return a;
}

#endif  // IOREACTOR_TEST_NET_H
