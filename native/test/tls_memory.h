// Two TLS engines talking in memory, for the native TLS tests: a checked
// context on the self-signed test certificate, plaintext written and flushed,
// ciphertext moved from one engine's output to the other's input (or taken
// out), and plaintext read until the engine has no more. No socket, so every byte each side sees is the test's doing.
#ifndef IOREACTOR_TEST_TLS_MEMORY_H
#define IOREACTOR_TEST_TLS_MEMORY_H

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "tls_certs.h"
#include "tls_context.h"
#include "tls_stream.h"

namespace tlsmemory {

// A context for one side (testcerts::context); a failure fails the test.
inline std::shared_ptr<ioreactor::TlsContext> context(bool server) {
  std::string err;
  auto ctx = testcerts::context(server, &err);
  check::that(ctx != nullptr, "context: " + err);
  return ctx;
}

// Moves what `from` has to send into `to`; returns the bytes moved.
inline size_t transfer(ioreactor::TlsStream& from, ioreactor::TlsStream& to) {
  const uint8_t* data = nullptr;
  size_t n = from.output(&data);
  if (n > 0) check::eq(to.feed(data, n), 0, "feed");
  from.consume_output();
  return n;
}

// Plaintext into `from` as one write and one flush (one record up to 16 KiB).
inline void send(ioreactor::TlsStream& from, const std::string& text) {
  struct iovec one = {const_cast<char*>(text.data()), text.size()};
  check::eq(from.writev(&one, 1), 0, "write");
  check::eq(from.flush(), 0, "flush");
}

// The ciphertext `from` has to send, taken out of it.
inline std::vector<uint8_t> take_output(ioreactor::TlsStream& from) {
  const uint8_t* data = nullptr;
  size_t n = from.output(&data);
  std::vector<uint8_t> out(data, data + n);
  from.consume_output();
  return out;
}

// Reads all there is, `room` bytes at a time; *end gets what the last read
// returned (kNoData, kClosed, kFailed).
inline std::string drain(ioreactor::TlsStream& t, size_t room = 4096, int64_t* end = nullptr) {
  std::string out;
  std::vector<uint8_t> buf(room);
  int64_t n;
  while ((n = t.read(buf.data(), buf.size())) > 0) out.append(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(n));
  if (end != nullptr) *end = n;
  return out;
}

}  // namespace tlsmemory

#endif  // IOREACTOR_TEST_TLS_MEMORY_H
