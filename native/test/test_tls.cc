// The TLS engine (tls_context / tls_stream) with no socket: a client and a
// server TlsStream wired back to back in memory. Handshake, data both ways,
// writes held until the handshake, the writes before a flush coalesced into one record, close_notify,
// garbage refused with a reason and an empty error queue, bad identities
// refused when the context is built. Valgrind checks no SSL object leaks.
#include <openssl/err.h>

#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "heap_trim.h"
#include "tls_certs.h"
#include "tls_memory.h"
#include "tls_context.h"
#include "tls_stream.h"

using namespace ioreactor;

namespace {

const testcerts::Pem& identity() {
  static const testcerts::Pem pem = testcerts::self_signed();
  return pem;
}

using tlsmemory::context;
using tlsmemory::drain;
using tlsmemory::transfer;

struct Pair {
  std::unique_ptr<TlsStream> client, server;
  Pair() : Pair(context(true), context(false)) {}
  Pair(std::shared_ptr<TlsContext> server_ctx, std::shared_ptr<TlsContext> client_ctx) {
    std::string err;
    server = TlsStream::create(std::move(server_ctx), "", &err);
    client = TlsStream::create(std::move(client_ctx), "localhost", &err);
  }
  // Runs the handshake to the end; true when both sides are established.
  bool handshake() {
    for (int round = 0; round < 10; ++round) {
      client->handshake();
      transfer(*client, *server);
      server->handshake();
      transfer(*server, *client);
      if (client->established() && server->established()) return true;
    }
    return false;
  }
};

void test_handshake_and_data() {
  Pair p;
  if (!check::that(p.handshake(), "handshake completes")) return;
  check::that(p.client->version() == "TLSv1.3", "TLS 1.3 by default");
  check::that(!p.client->peer_certificate_der().empty(), "the client sees the server's certificate");
  struct iovec one = {const_cast<char*>("ping"), 4};
  check::eq(p.client->writev(&one, 1), 0, "client write");
  check::eq(p.client->flush(), 0, "flush");
  transfer(*p.client, *p.server);
  check::that(drain(*p.server) == "ping", "server reads ping");
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

void test_writes_held_until_handshake() {
  Pair p;
  struct iovec one = {const_cast<char*>("early"), 5};
  check::eq(p.client->writev(&one, 1), 0, "write before the handshake");
  check::eq(static_cast<long long>(p.client->held()), 5, "held");
  if (!check::that(p.handshake(), "handshake completes")) return;
  check::eq(static_cast<long long>(p.client->held()), 0, "released");
  transfer(*p.client, *p.server);
  check::that(drain(*p.server) == "early", "server reads the early write");
}

void test_writev_coalesced() {
  Pair p;
  if (!check::that(p.handshake(), "handshake completes")) return;
  std::vector<struct iovec> iov(100);
  char piece[10] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'};
  for (auto& v : iov) v = {piece, sizeof piece};
  check::eq(p.client->writev(iov.data(), 50), 0, "writev");
  for (int i = 50; i < 100; ++i) check::eq(p.client->writev(&iov[static_cast<size_t>(i)], 1), 0, "write");
  const uint8_t* data = nullptr;
  check::eq(static_cast<long long>(p.client->output(&data)), 0, "small writes wait for flush()");
  check::eq(p.client->flush(), 0, "flush");
  // One TLS 1.3 record: 5-byte header, 1000 bytes, 1 content-type byte, 16-byte tag.
  check::eq(static_cast<long long>(p.client->output(&data)), 1000 + 22, "one record for 100 small pieces");
  transfer(*p.client, *p.server);
  check::eq(static_cast<long long>(drain(*p.server).size()), 1000, "all of it arrives");
  // A whole record's worth goes at once; only the remainder waits.
  std::vector<char> big(16 * 1024 + 10, 'b');
  struct iovec large = {big.data(), big.size()};
  check::eq(p.client->writev(&large, 1), 0, "big write");
  check::eq(static_cast<long long>(p.client->output(&data)), 16 * 1024 + 22, "the full record is out at once");
  check::eq(p.client->flush(), 0, "flush");
  check::eq(static_cast<long long>(p.client->output(&data)), 16 * 1024 + 22 + 10 + 22, "then the rest");
}

void test_close_notify() {
  Pair p;
  if (!check::that(p.handshake(), "handshake completes")) return;
  check::eq(p.client->close_notify(), 0, "close_notify");
  transfer(*p.client, *p.server);
  uint8_t buf[64];
  check::eq(p.server->read(buf, sizeof buf), TlsStream::kClosed, "the server sees close_notify");
}

// A client context saves the ticket a connection receives after its
// handshake and offers it on the next connection to the same peer key,
// also when that connection ended without close_notify (freed here unshut).
void test_client_session_reuse() {
  auto server_ctx = context(true);
  auto client_ctx = context(false);
  for (int visit = 0; visit < 3; ++visit) {
    Pair p(server_ctx, client_ctx);
    check::eq(p.client->reuse_sessions(visit == 2 ? "other peer" : "peer"), 0, "reuse_sessions");
    if (!check::that(p.handshake(), "handshake completes")) return;
    check::that(p.client->session_reused() == (visit == 1), "resumed only on the second visit to the same peer");
    transfer(*p.server, *p.client);  // the NewSessionTicket messages
    drain(*p.client);
  }
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

// An idle connection keeps none of the engine's buffers: not the handshake
// flight's output, not the input's high-water capacity after a large feed,
// not a big write's plaintext.
void test_idle_holds_no_buffers() {
  Pair p;
  if (!check::that(p.handshake(), "handshake completes")) return;
  transfer(*p.server, *p.client);
  drain(*p.client);
  std::vector<char> big(100 * 1024 + 7, 'x');
  struct iovec one = {big.data(), big.size()};
  p.client->writev(&one, 1);
  p.client->flush();
  transfer(*p.client, *p.server);  // one feed of 100 KiB
  check::eq(static_cast<long long>(drain(*p.server).size()), static_cast<long long>(big.size()), "data arrives");
  p.server->writev(&one, 1);
  p.server->flush();
  transfer(*p.server, *p.client);
  drain(*p.client);
  check::eq(static_cast<long long>(p.server->buffer_capacity()), 0, "idle server buffers");
  check::eq(static_cast<long long>(p.client->buffer_capacity()), 0, "idle client buffers");
}

// A connection that has read a small message keeps no input buffer at all
// (OpenSSL took what it fed into its own record buffer, since released).
void test_read_keeps_no_input() {
  Pair p;
  if (!check::that(p.handshake(), "handshake completes")) return;
  transfer(*p.server, *p.client);  // the session tickets
  drain(*p.client);
  const char hello[] = "hello";
  struct iovec one = {const_cast<char*>(hello), sizeof hello - 1};
  p.client->writev(&one, 1);
  p.client->flush();
  transfer(*p.client, *p.server);
  check::that(drain(*p.server) == "hello", "data arrives");
  check::eq(static_cast<long long>(p.server->buffer_capacity()), 0, "server buffers after a read");
}

// Handshakes and freed streams leave holes in the heap: each is noted, and a
// trim takes the notes (nothing noted since: no trim).
void test_heap_trim_noted() {
  HeapTrim::run();  // start from nothing pending
  uint64_t trims = HeapTrim::trims();
  {
    Pair p;
    if (!check::that(p.handshake(), "handshake completes")) return;
    check::that(HeapTrim::pending() >= 2, "both handshakes noted");
  }
  check::that(HeapTrim::pending() >= 4, "both frees noted");
  check::that(HeapTrim::run() == HeapTrim::supported(), "a trim runs where the allocator has one");
  check::eq(static_cast<long long>(HeapTrim::pending()), 0, "the notes are taken");
  check::that(!HeapTrim::run(), "nothing noted: no trim");
  check::eq(static_cast<long long>(HeapTrim::trims() - trims), HeapTrim::supported() ? 1 : 0, "one trim counted");
}

void test_garbage_refused() {
  std::string err;
  auto server = TlsStream::create(context(true), "", &err);
  const char junk[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
  server->feed(reinterpret_cast<const uint8_t*>(junk), sizeof junk - 1);
  check::that(server->handshake() == TlsStream::Step::kFailed, "plaintext HTTP fails the handshake");
  check::that(!server->error_code().empty(), "with a reason: " + server->error_code());
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty after the failure");
}

void test_bad_identity_refused() {
  TlsConfig cfg;
  cfg.server = true;
  cfg.key_pem = testcerts::self_signed().key;  // another key
  cfg.cert_pem = identity().cert;
  std::string err;
  check::that(TlsContext::create(cfg, &err) == nullptr, "mismatched key refused");
  check::that(err.rfind("KEY_MISMATCH", 0) == 0, "KEY_MISMATCH: " + err);
  cfg.key_pem = "junk";
  check::that(TlsContext::create(cfg, &err) == nullptr && err.rfind("BAD_PRIVATE_KEY", 0) == 0, "junk key: " + err);
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all({{"handshake and data", test_handshake_and_data},
                         {"writes held until the handshake", test_writes_held_until_handshake},
                         {"writev coalesced", test_writev_coalesced},
                         {"close_notify", test_close_notify},
                         {"client session reuse", test_client_session_reuse},
                         {"idle holds no buffers", test_idle_holds_no_buffers},
                         {"a read keeps no input buffer", test_read_keeps_no_input},
                         {"heap trim noted", test_heap_trim_noted},
                         {"garbage refused", test_garbage_refused},
                         {"bad identity refused", test_bad_identity_refused}},
                        argc, argv);
}
