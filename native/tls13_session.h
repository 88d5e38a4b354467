// The state a TLS 1.3 server connection needs to leave OpenSSL's record
// layer (Tls13Handoff, alive during the handshake) and to run without it
// (Tls13Session, alive after the switch). TlsStream (tls_stream.h) owns
// one or the other; tls_stream_tls13.cc has the switch and the record
// layer's read and write paths, and the reasoning for the sequence numbers.
#ifndef IOREACTOR_TLS13_SESSION_H
#define IOREACTOR_TLS13_SESSION_H

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tls13_keys.h"
#include "tls13_records.h"

namespace ioreactor {

// Counts the TLS records in a byte stream handed over in pieces cut
// anywhere (what OpenSSL reads from or writes to our BIO).
struct RecordCounter {
  uint64_t records = 0;  // headers complete so far
  size_t body_left = 0;  // bytes of the current record's body still to come
  uint8_t header[kTls13Header] = {};
  uint8_t have = 0;  // bytes of the next header seen

  void feed(const uint8_t* p, size_t n);
  bool at_boundary() const { return have == 0 && body_left == 0; }
};

// What the keylog callback and the BIO tell a server during its handshake.
struct Tls13Handoff {
  uint8_t client_secret[kTls13MaxSecret] = {};
  uint8_t server_secret[kTls13MaxSecret] = {};
  size_t client_len = 0, server_len = 0;
  RecordCounter rx, tx;
  uint64_t tx_mark = 0;  // tx.records when the server's application key was installed
  bool ambiguous = false;  // something did not add up: stay on OpenSSL

  ~Tls13Handoff() {
    OPENSSL_cleanse(client_secret, sizeof client_secret);
    OPENSSL_cleanse(server_secret, sizeof server_secret);
  }
};

constexpr size_t kTls13SmallWrites = 256;

// A connection on our own record layer: the two directions' keys and what
// the SSL object answered before it was freed.
struct Tls13Session {
  RecordCipher rx, tx;
  long verify_result = 0;
  std::string alpn;
  std::string peer_der;  // empty without a peer certificate
  bool session_reused = false;
  // Decrypted content not delivered yet (it did not fit the caller's room):
  // it sits in TlsStream's input buffer at plain_at.
  size_t plain_at = 0, plain_left = 0;
  // A tick's writes while they are few and small (an echo, a short reply)
  // wait here until the flush instead of in TlsStream's plaintext vector
  // (tls_stream_tls13.cc, own_take_small).
  uint8_t small[kTls13SmallWrites];
  size_t small_len = 0;
  bool got_close = false;  // the peer's close_notify
  bool sent_close = false;  // close_notify or a fatal alert sent: no more records
  bool failed = false;

  bool ended() const { return got_close || failed; }
};

}  // namespace ioreactor

#endif  // IOREACTOR_TLS13_SESSION_H
