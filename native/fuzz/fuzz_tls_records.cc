// Fuzz target: the TLS record-input path (TlsStream::feed, handshake, read)
// on the server side. The input is cut into chunks of sizes it chooses, so
// records arrive whole, split anywhere, or several at once; its first byte
// picks whether the bytes meet a fresh server (ClientHello parsing) or one
// that has completed a real handshake with an in-memory client (the
// application-data path: bad MACs, oversized and truncated records, alerts).
// Properties: no crash or sanitizer report, a failure always carries a
// reason, nothing is left on OpenSSL's error queue after any call, and a
// failed stream stays failed.
#include <openssl/err.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "../test/tls_certs.h"
#include "fuzz_common.h"
#include "tls_context.h"
#include "tls_stream.h"

using namespace ioreactor;
using fuzz::Input;
using fuzz::require;

namespace {

std::shared_ptr<TlsContext> make_context(bool server) {
  std::string err;
  auto ctx = testcerts::context(server, &err);
  require(ctx != nullptr, "test context builds");
  return ctx;
}

void move_output(TlsStream& from, TlsStream& to) {
  const uint8_t* data = nullptr;
  size_t n = from.output(&data);
  if (n > 0) to.feed(data, n);
  from.consume_output();
}

// A server that has finished a handshake with an in-memory client.
std::unique_ptr<TlsStream> established_server(const std::shared_ptr<TlsContext>& server_ctx,
                                              const std::shared_ptr<TlsContext>& client_ctx) {
  std::string err;
  auto server = TlsStream::create(server_ctx, "", &err);
  auto client = TlsStream::create(client_ctx, "", &err);
  for (int i = 0; i < 10 && !(server->established() && client->established()); ++i) {
    client->handshake();
    move_output(*client, *server);
    server->handshake();
    move_output(*server, *client);
  }
  require(server->established(), "the in-memory handshake completes");
  return server;
}

// Feeds one chunk and drives the stream; false once it has failed.
bool step(TlsStream& s, const std::string& chunk) {
  if (s.feed(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()) != 0) return false;
  if (!s.established()) {
    TlsStream::Step st = s.handshake();
    require(ERR_peek_error() == 0, "error queue empty after handshake()");
    if (st == TlsStream::Step::kFailed) return false;
    if (st == TlsStream::Step::kAgain) return true;
  }
  uint8_t buf[16 * 1024];
  int64_t n;
  while ((n = s.read(buf, sizeof buf)) > 0) {
  }
  require(ERR_peek_error() == 0, "error queue empty after read()");
  s.consume_output();
  return n != TlsStream::kFailed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto server_ctx = make_context(true);
  static const auto client_ctx = make_context(false);
  Input in(data, size);
  bool after_handshake = (in.byte() & 1) != 0;
  std::string err;
  std::unique_ptr<TlsStream> s = after_handshake ? established_server(server_ctx, client_ctx)
                                                 : TlsStream::create(server_ctx, "", &err);
  while (!in.empty()) {
    size_t len = 1 + in.byte() % 64u * 64u + in.byte() % 64u;
    if (!step(*s, in.take(len))) {
      require(!s->error_code().empty(), "a failure carries a reason");
      uint8_t buf[64];
      require(s->read(buf, sizeof buf) <= 0, "a failed stream yields no plaintext");
      ERR_clear_error();
      break;
    }
  }
  return 0;
}
