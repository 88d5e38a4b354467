// Fuzz target: the TLS record-input path (TlsStream::feed, handshake, read)
// on the server side. The input is cut into chunks of sizes it chooses, so
// records arrive whole, split anywhere, or several at once; its first byte
// picks whether the bytes meet a fresh server (ClientHello parsing) or one
// that has completed a real TLS 1.3 handshake with an in-memory client, so
// runs on our own record layer (tls_stream_tls13.cc: bad tags, oversized and
// truncated records, alerts). In a third mode each chunk is sealed with the
// client's real key first (its first byte picks the inner content type), so
// the bytes get past the tag and reach what opens the content: alerts,
// KeyUpdates, other handshake messages, padding. A fourth bit has the
// chunks opened in place when the stream can (open_in_place, the loop's
// usual read), the rest of a cut record fed.
// Properties: no crash or sanitizer report, a failure always carries a
// reason, nothing is left on OpenSSL's error queue after any call, and a
// failed stream stays failed.
#include <openssl/err.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../test/tls_certs.h"
#include "fuzz_common.h"
#include "tls13_records.h"
#include "tls_context.h"
#include "tls_stream.h"

using namespace ioreactor;
using fuzz::Input;
using fuzz::require;

namespace {

std::string g_client_secret;  // CLIENT_TRAFFIC_SECRET_0's hex, from the client's keylog

void client_keylog(const SSL*, const char* line) {
  static const char kLabel[] = "CLIENT_TRAFFIC_SECRET_0 ";
  std::string l(line);
  if (l.compare(0, sizeof kLabel - 1, kLabel) == 0) g_client_secret = l.substr(l.rfind(' ') + 1);
}

std::shared_ptr<TlsContext> make_context(bool server) {
  std::string err;
  auto ctx = testcerts::context(server, &err);
  require(ctx != nullptr, "test context builds");
  if (!server) SSL_CTX_set_keylog_callback(ctx->ctx(), &client_keylog);
  return ctx;
}

// Seals chunks as the client would have: the record layer's own sealer on
// the client's secret, its sequence continuing from 0.
struct Sealer {
  RecordCipher cipher;
  bool ready = false;
  void key(const Tls13Suite* suite) {
    uint8_t secret[kTls13MaxSecret];
    size_t n = g_client_secret.size() / 2;
    if (suite == nullptr || n != suite->hash_len) return;
    for (size_t i = 0; i < n; ++i) secret[i] = static_cast<uint8_t>(std::stoi(g_client_secret.substr(2 * i, 2), nullptr, 16));
    ready = cipher.init(*suite, secret, true);
  }
  // The chunk's first byte picks the inner type (handshake, alert, data or another).
  std::string seal(const std::string& chunk) {
    static const uint8_t kTypes[] = {kTypeHandshake, kTypeAlert, kTypeApplicationData, 0};
    uint8_t type = chunk.empty() ? kTypeApplicationData : kTypes[static_cast<uint8_t>(chunk[0]) % 4];
    std::string body = chunk.empty() ? chunk : chunk.substr(1);
    if (type == 0) type = body.empty() ? 1 : static_cast<uint8_t>(body[0]);
    std::vector<uint8_t> rec;
    size_t len = std::min(body.size(), kTls13MaxPlain);
    cipher.seal(type, reinterpret_cast<const uint8_t*>(body.data()), len, &rec);
    return std::string(rec.begin(), rec.end());
  }
};

void move_output(TlsStream& from, TlsStream& to) {
  const uint8_t* data = nullptr;
  size_t n = from.output(&data);
  if (n > 0) to.feed(data, n);
  from.consume_output();
}

// A server that has finished a handshake with an in-memory client.
std::unique_ptr<TlsStream> established_server(const std::shared_ptr<TlsContext>& server_ctx,
                                              const std::shared_ptr<TlsContext>& client_ctx, Sealer* sealer) {
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
  require(std::string(server->record_layer()) == "own", "a TLS 1.3 server runs on our record layer");
  const SSL_CIPHER* c = SSL_get_current_cipher(client->ssl());
  sealer->key(c != nullptr ? tls13_suite(SSL_CIPHER_get_protocol_id(c)) : nullptr);
  require(sealer->ready, "the client's key is known");
  return server;
}

// As the loop reads when nothing waits in the engine: whole records opened
// where they lie, only the rest fed. False when feeding fails.
bool open_in_place(TlsStream& s, std::string chunk) {
  auto* p = reinterpret_cast<uint8_t*>(&chunk[0]);
  size_t used = 0;
  size_t n = s.open_in_place(p, chunk.size(), &used);
  require(n <= used && used <= chunk.size(), "in place: the content fits in what was taken");
  require(ERR_peek_error() == 0, "error queue empty after open_in_place()");
  return used == chunk.size() || s.feed(p + used, chunk.size() - used) == 0;
}

// Feeds one chunk (in place when `in_place` and the stream can) and drives
// the stream; false once it has failed.
bool step(TlsStream& s, const std::string& chunk, bool in_place) {
  if (in_place && s.can_open_in_place()) {
    if (!open_in_place(s, chunk)) return false;
  } else if (s.feed(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()) != 0) {
    return false;
  }
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
  uint8_t mode = in.byte();
  bool after_handshake = (mode & 1) != 0;
  bool sealed = after_handshake && (mode & 2) != 0;
  bool in_place = (mode & 4) != 0;
  std::string err;
  Sealer sealer;
  std::unique_ptr<TlsStream> s = after_handshake ? established_server(server_ctx, client_ctx, &sealer)
                                                 : TlsStream::create(server_ctx, "", &err);
  while (!in.empty()) {
    size_t len = 1 + in.byte() % 64u * 64u + in.byte() % 64u;
    std::string chunk = in.take(len);
    if (!step(*s, sealed ? sealer.seal(chunk) : chunk, in_place)) {
      require(!s->error_code().empty(), "a failure carries a reason");
      uint8_t buf[64];
      require(s->read(buf, sizeof buf) <= 0, "a failed stream yields no plaintext");
      ERR_clear_error();
      break;
    }
  }
  return 0;
}
