// Our TLS 1.3 record layer (tls13_keys, tls13_records, tls_stream_tls13):
// the key schedule pieces against RFC 8448's simple 1-RTT trace; sealing and
// opening one record, and every malformed record refused with its alert; the
// sequence number guard; and the switch-over itself, a server TlsStream
// against an OpenSSL client TlsStream in memory: each suite, several ticket
// counts, a HelloRetryRequest, resumption, key updates both ways, a tampered
// record, partial reads, close_notify. The OpenSSL client decrypting what
// our server sends is what checks the write sequence numbers.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/ssl.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "tls13_keys.h"
#include "tls13_records.h"
#include "tls_certs.h"
#include "tls_memory.h"
#include "tls_context.h"
#include "tls_stream.h"

using namespace ioreactor;

namespace {

std::vector<uint8_t> hex(const char* h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; h[i] != 0 && h[i + 1] != 0; i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(h + i, 2), nullptr, 16)));
  return out;
}

bool same(const uint8_t* got, const std::vector<uint8_t>& want) { return std::memcmp(got, want.data(), want.size()) == 0; }

// RFC 8448 §3: the application traffic secrets from the master secret and
// the transcript hash up to the server Finished, then each one's key and IV.
void test_rfc8448_key_schedule() {
  const Tls13Suite& s = *tls13_suite(0x1301);
  auto master = hex("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919");
  auto transcript = hex("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13");
  uint8_t client[32], server[32];
  check::that(hkdf_expand_label(s, master.data(), "c ap traffic", transcript.data(), 32, client, 32), "c ap traffic");
  check::that(hkdf_expand_label(s, master.data(), "s ap traffic", transcript.data(), 32, server, 32), "s ap traffic");
  check::that(same(client, hex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")), "client secret");
  check::that(same(server, hex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")), "server secret");
  TrafficKeys k;
  check::that(tls13_traffic_keys(s, server, &k), "server keys");
  check::that(same(k.key, hex("9f02283b6c9c07efc26bb9f2ac92e356")), "server key");
  check::that(same(k.iv, hex("cf782b88dd83549aadf1e984")), "server iv");
  check::that(tls13_traffic_keys(s, client, &k), "client keys");
  check::that(same(k.key, hex("17422dda596ed5d9acd890e3c63f5051")), "client key");
  check::that(same(k.iv, hex("5b78923dee08579033e523d9")), "client iv");
  check::that(tls13_suite(0x1304) == nullptr, "AES-128-CCM is left to OpenSSL");
}

// HKDF-Expand-Label of every suite's hash against OpenSSL's own HKDF
// (EVP_KDF "HKDF", expand only, the HkdfLabel built here byte by byte), for
// the key, the IV, a whole-hash output and one with a context.
std::vector<uint8_t> reference_expand(const char* digest, const std::vector<uint8_t>& secret, const std::string& label,
                                      const std::vector<uint8_t>& context, size_t out_len) {
  std::vector<uint8_t> info = {static_cast<uint8_t>(out_len >> 8), static_cast<uint8_t>(out_len),
                               static_cast<uint8_t>(6 + label.size())};
  for (char c : "tls13 " + label) info.push_back(static_cast<uint8_t>(c));
  info.push_back(static_cast<uint8_t>(context.size()));
  info.insert(info.end(), context.begin(), context.end());
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_octet_string("key", const_cast<uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string("info", info.data(), info.size()),
      OSSL_PARAM_construct_int("mode", &mode), OSSL_PARAM_construct_end()};
  std::vector<uint8_t> out(out_len);
  check::that(EVP_KDF_derive(kctx, out.data(), out_len, params) == 1, "reference HKDF");
  EVP_KDF_CTX_free(kctx);
  EVP_KDF_free(kdf);
  return out;
}

void test_expand_label_matches_openssl_hkdf() {
  for (uint16_t id : {0x1301, 0x1302, 0x1303}) {
    const Tls13Suite& s = *tls13_suite(id);
    std::vector<uint8_t> secret(s.hash_len), context(s.hash_len);
    for (size_t i = 0; i < s.hash_len; ++i) secret[i] = static_cast<uint8_t>(i * 7 + id), context[i] = static_cast<uint8_t>(255 - i);
    TrafficKeys k;
    check::that(tls13_traffic_keys(s, secret.data(), &k), "traffic keys");
    check::that(same(k.key, reference_expand(s.digest, secret, "key", {}, s.key_len)), "key");
    check::that(same(k.iv, reference_expand(s.digest, secret, "iv", {}, kTls13IvLen)), "iv");
    uint8_t out[kTls13MaxSecret];
    check::that(hkdf_expand_label(s, secret.data(), "c ap traffic", context.data(), context.size(), out, s.hash_len), "with context");
    check::that(same(out, reference_expand(s.digest, secret, "c ap traffic", context, s.hash_len)), "with context, whole hash");
    std::vector<uint8_t> next = secret;
    check::that(tls13_next_secret(s, next.data()), "next secret");
    check::that(same(next.data(), reference_expand(s.digest, secret, "traffic upd", {}, s.hash_len)), "traffic upd");
  }
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

// A sealer and an opener on the same secret (one direction of a connection).
struct Link {
  RecordCipher out, in;
  explicit Link(uint16_t suite = 0x1301) {
    std::vector<uint8_t> secret(48, 0x5a);
    check::that(out.init(*tls13_suite(suite), secret.data(), true), "sealer");
    check::that(in.init(*tls13_suite(suite), secret.data(), false), "opener");
  }
  std::vector<uint8_t> seal(const std::string& text, uint8_t type = kTypeApplicationData) {
    std::vector<uint8_t> rec;
    check::that(!out.seal(type, reinterpret_cast<const uint8_t*>(text.data()), text.size(), &rec), "seal");
    return rec;
  }
  // Opens rec; the error (alert 0 when none), the content in *text.
  RecordError open(std::vector<uint8_t> rec, std::string* text = nullptr, uint8_t* type = nullptr) {
    size_t len = 0;
    RecordError e = tls13_check_header(rec.data(), &len);
    if (e) return e;
    uint8_t t = 0;
    if (rec.size() != kTls13Header + len) return RecordError{TLS1_AD_DECODE_ERROR, 0};
    e = in.open(rec.data(), len, &t, &len);
    if (!e && text != nullptr) text->assign(reinterpret_cast<char*>(rec.data() + kTls13Header), len);
    if (type != nullptr) *type = t;
    return e;
  }
};

void test_seal_open_round_trip() {
  for (uint16_t suite : {0x1301, 0x1302, 0x1303}) {
    Link l(suite);
    for (const char* text : {"hello", "", "a second record"}) {
      std::string got;
      check::that(!l.open(l.seal(text), &got) && got == text, std::string("round trip: ") + text);
    }
    std::vector<uint8_t> rec = l.seal("x");
    check::eq(static_cast<long long>(rec.size()), 5 + 1 + 1 + 16, "header, content, type, tag");
    check::eq(static_cast<long long>(l.in.seq()), 3, "three records opened");
  }
}

void test_bad_records_refused() {
  Link l;
  std::vector<uint8_t> rec = l.seal("tamper me");
  rec[7] ^= 1;
  check::eq(l.open(rec).alert, SSL3_AD_BAD_RECORD_MAC, "a flipped ciphertext bit: bad_record_mac");
  rec = l.seal("tag");
  rec.back() ^= 0x80;
  check::eq(l.open(rec).alert, SSL3_AD_BAD_RECORD_MAC, "a flipped tag bit: bad_record_mac");
  std::vector<uint8_t> tiny = {23, 3, 3, 0, 16};
  tiny.resize(5 + 16, 0);
  check::eq(l.open(tiny).alert, SSL3_AD_BAD_RECORD_MAC, "shorter than tag and type: bad_record_mac");
  std::vector<uint8_t> big = {23, 3, 3, 0x41, 0x01};  // 2^14 + 257
  size_t len = 0;
  check::eq(tls13_check_header(big.data(), &len).alert, TLS1_AD_RECORD_OVERFLOW, "oversized: record_overflow");
  std::vector<uint8_t> ccs = {20, 3, 3, 0, 1};
  check::eq(tls13_check_header(ccs.data(), &len).alert, SSL3_AD_UNEXPECTED_MESSAGE, "outer type: unexpected_message");
  std::vector<uint8_t> old = {23, 3, 1, 0, 20};
  check::eq(tls13_check_header(old.data(), &len).alert, TLS1_AD_PROTOCOL_VERSION, "legacy version: protocol_version");
  Link m;
  check::eq(m.open(m.seal("x", 99)).alert, SSL3_AD_UNEXPECTED_MESSAGE, "unknown inner type: unexpected_message");
  check::eq(m.open(m.seal(std::string("\0\0\0", 3), 0)).alert, SSL3_AD_UNEXPECTED_MESSAGE, "all-zero inner plaintext");
  Link n;
  std::string over(kTls13MaxPlain + 1, 'o');
  std::vector<uint8_t> out;
  check::that(bool(n.out.seal(kTypeApplicationData, reinterpret_cast<const uint8_t*>(over.data()), over.size(), &out)), "a record over 2^14 is never sealed");
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

// The last sequence number is never used, in either direction.
void test_sequence_never_wraps() {
  Link l;
  l.out.start_at(UINT64_MAX - 1);
  l.in.start_at(UINT64_MAX - 1);
  std::string got;
  check::that(!l.open(l.seal("last"), &got) && got == "last", "2^64 - 2 is used");
  std::vector<uint8_t> rec;
  check::that(bool(l.out.seal(kTypeApplicationData, reinterpret_cast<const uint8_t*>("x"), 1, &rec)), "sealing at 2^64 - 1 fails");
  check::eq(static_cast<long long>(rec.size()), 0, "and writes nothing");
  Link m;
  m.in.start_at(UINT64_MAX);
  check::that(bool(m.open(m.seal("x"))), "opening at 2^64 - 1 fails");
  check::eq(static_cast<long long>(m.in.seq()), static_cast<long long>(UINT64_MAX), "the sequence number stays");
}

// The reference for one record: EVP's AEAD, called the documented way, with
// the nonce built here from the IV and the sequence number byte by byte.
struct Reference {
  TrafficKeys k;
  const EVP_CIPHER* cipher;
  explicit Reference(uint16_t suite, const std::vector<uint8_t>& secret)
      : cipher(tls13_cipher(*tls13_suite(suite))) {
    check::that(tls13_traffic_keys(*tls13_suite(suite), secret.data(), &k), "reference keys");
  }
  void nonce(uint64_t seq, uint8_t* out) const {
    std::memcpy(out, k.iv, kTls13IvLen);
    for (int byte = 0; byte < 8; ++byte) out[4 + byte] ^= static_cast<uint8_t>(seq >> (56 - 8 * byte));
  }
  // Encrypts or decrypts body (inner plaintext or ciphertext, tag after it) in place.
  bool run(bool enc, uint64_t seq, std::vector<uint8_t>* rec) const {
    uint8_t n[kTls13IvLen];
    nonce(seq, n);
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    int len = static_cast<int>(rec->size() - kTls13Header - kTls13TagLen), out = 0, aad = 0;
    uint8_t* body = rec->data() + kTls13Header;
    bool ok = EVP_CipherInit_ex2(c, cipher, k.key, n, enc ? 1 : 0, nullptr) == 1 &&
              EVP_CipherUpdate(c, nullptr, &aad, rec->data(), kTls13Header) == 1 &&
              EVP_CipherUpdate(c, body, &out, body, len) == 1 &&
              (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kTls13TagLen, body + len) == 1) &&
              EVP_CipherFinal_ex(c, body + out, &out) == 1 &&
              (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kTls13TagLen, body + len) == 1);
    EVP_CIPHER_CTX_free(c);
    return ok;
  }
};

// Sequence numbers where the nonce's bytes carry: each record sealed at one
// is what EVP with a nonce built here opens, and the other way round, for
// each suite (the AEAD runs on the provider's entry points, tls13_aead.h).
void test_nonces_match_reference() {
  const uint64_t seqs[] = {0, 1, 255, 256, 65535, 65536, uint64_t{1} << 32, (uint64_t{1} << 56) + 3,
                           uint64_t{1} << 63, UINT64_MAX - 1};
  std::vector<uint8_t> secret(48, 0x33);
  for (uint16_t suite : {0x1301, 0x1302, 0x1303}) {
    Reference ref(suite, secret);
    RecordCipher sealer, opener;
    check::that(sealer.init(*tls13_suite(suite), secret.data(), true) && opener.init(*tls13_suite(suite), secret.data(), false), "keyed");
    for (uint64_t seq : seqs) {
      std::string what = "suite " + std::to_string(suite) + " seq " + std::to_string(seq);
      sealer.start_at(seq);
      std::vector<uint8_t> rec;
      check::that(!sealer.seal(kTypeApplicationData, reinterpret_cast<const uint8_t*>("sixty-four"), 10, &rec), "seal at " + what);
      check::that(ref.run(false, seq, &rec) && std::memcmp(rec.data() + kTls13Header, "sixty-four\x17", 11) == 0,
                  "EVP opens ours at " + what);
      std::vector<uint8_t> theirs(kTls13Header + 11 + kTls13TagLen, 0);
      std::memcpy(theirs.data(), "\x17\x03\x03\x00\x1b" "from EVP!!\x17", kTls13Header + 11);
      check::that(ref.run(true, seq, &theirs), "EVP seals at " + what);
      opener.start_at(seq);
      uint8_t type = 0;
      size_t len = 0;
      check::that(!opener.open(theirs.data(), theirs.size() - kTls13Header, &type, &len) && len == 10 &&
                      std::memcmp(theirs.data() + kTls13Header, "from EVP!!", 10) == 0,
                  "we open EVP's at " + what);
    }
  }
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

// ---- the switch-over, against an OpenSSL client ----

using tlsmemory::context;
using tlsmemory::drain;
using tlsmemory::transfer;

using tlsmemory::send;

struct Pair {
  std::shared_ptr<TlsContext> server_ctx, client_ctx;
  std::unique_ptr<TlsStream> client, server;
  Pair() : Pair(context(true), context(false)) {}
  Pair(std::shared_ptr<TlsContext> s, std::shared_ptr<TlsContext> c) : server_ctx(std::move(s)), client_ctx(std::move(c)) {}
  void start(const std::string& reuse_key = "") {
    std::string err;
    server = TlsStream::create(server_ctx, "", &err);
    client = TlsStream::create(client_ctx, "", &err);
    check::eq(client->reuse_sessions(reuse_key), 0, "reuse_sessions");
  }
  bool handshake() {
    if (!server) start();
    for (int round = 0; round < 10; ++round) {
      client->handshake();
      transfer(*client, *server);
      server->handshake();
      transfer(*server, *client);
      if (client->established() && server->established()) return true;
    }
    return false;
  }
  // Data both ways (the client also takes the tickets the server sent).
  bool talk(const std::string& tag) {
    send(*client, "ping " + tag);
    transfer(*client, *server);
    bool in = drain(*server) == "ping " + tag;
    send(*server, "pong " + tag);
    transfer(*server, *client);
    bool out = drain(*client) == "pong " + tag;
    return check::that(in, "server reads " + tag) && check::that(out, "client reads " + tag + ": " + client->error_code());
  }
};

void test_switches_on_tls13_only() {
  Pair p;
  if (!check::that(p.handshake(), "handshake")) return;
  check::that(std::string(p.server->record_layer()) == "own", "a TLS 1.3 server leaves OpenSSL");
  check::that(p.server->ssl() == nullptr, "its SSL is freed");
  check::that(std::string(p.client->record_layer()) == "openssl", "a client stays on OpenSSL");
  check::that(p.server->version() == "TLSv1.3", "version kept");
  p.talk("1.3");
  Pair q;
  SSL_CTX_set_max_proto_version(q.client_ctx->ctx(), TLS1_2_VERSION);
  if (!check::that(q.handshake(), "TLS 1.2 handshake")) return;
  check::that(std::string(q.server->record_layer()) == "openssl", "TLS 1.2 stays on OpenSSL");
  q.talk("1.2");
}

// A tick's small writes wait in the session, bigger ones in the plaintext
// vector: whichever way they go, they leave in the order written, the small
// ones of a tick as one record.
void test_small_writes_coalesce_in_order() {
  Pair p;
  if (!check::that(p.handshake(), "handshake")) return;
  p.talk("first");
  std::string a(10, 'a'), b(20, 'b');
  struct iovec two[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
  check::eq(p.server->writev(two, 2), 0, "two small writes");
  check::eq(p.server->flush(), 0, "flush");
  const uint8_t* out = nullptr;
  check::eq(static_cast<long long>(p.server->output(&out)), 5 + 30 + 1 + 16, "one record for the tick's 30 bytes");
  transfer(*p.server, *p.client);
  check::that(drain(*p.client) == a + b, "small writes in order");
  for (size_t first : {size_t{100}, size_t{256}}) {  // some room left, and none
    std::string text;
    for (size_t len : {first, size_t{256} - first, size_t{1}, size_t{300}, size_t{20000}, size_t{3}}) {
      std::string piece(len, static_cast<char>('c' + text.size() % 23));
      struct iovec one = {piece.data(), piece.size()};
      check::eq(p.server->writev(&one, 1), 0, "write " + std::to_string(len));
      text += piece;
    }
    check::eq(p.server->flush(), 0, "flush");
    transfer(*p.server, *p.client);
    check::that(drain(*p.client) == text, "small, then spilled, then large writes in order after " + std::to_string(first));
  }
  p.talk("after");
}

void test_each_suite() {
  for (const char* suite : {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
    Pair p;
    SSL_CTX_set_ciphersuites(p.client_ctx->ctx(), suite);
    if (!check::that(p.handshake(), std::string("handshake ") + suite)) continue;
    check::that(std::string(p.server->record_layer()) == "own", std::string("own layer for ") + suite);
    p.talk(suite);
    std::string big(100 * 1024 + 3, 'b');
    send(*p.server, big);
    transfer(*p.server, *p.client);
    check::that(drain(*p.client) == big, std::string("100 KiB to the client over ") + suite);
  }
  Pair ccm;
  SSL_CTX_set_ciphersuites(ccm.server_ctx->ctx(), "TLS_AES_128_CCM_SHA256");
  SSL_CTX_set_ciphersuites(ccm.client_ctx->ctx(), "TLS_AES_128_CCM_SHA256");
  if (check::that(ccm.handshake(), "CCM handshake")) {
    check::that(std::string(ccm.server->record_layer()) == "openssl", "another suite stays on OpenSSL");
    ccm.talk("ccm");
  }
}

// The write sequence number is the count of tickets OpenSSL sent under the
// application key: any count, and none.
void test_ticket_counts() {
  for (size_t tickets : {0, 1, 2, 5}) {
    Pair p;
    SSL_CTX_set_num_tickets(p.server_ctx->ctx(), tickets);
    if (!check::that(p.handshake(), "handshake")) return;
    check::that(std::string(p.server->record_layer()) == "own", "own layer");
    p.talk(std::to_string(tickets) + " tickets");
  }
}

void test_hello_retry_request() {
  Pair p;
  SSL_CTX_set1_groups_list(p.server_ctx->ctx(), "P-256");
  SSL_CTX_set1_groups_list(p.client_ctx->ctx(), "X25519:P-256");  // a key share the server must refuse
  if (!check::that(p.handshake(), "handshake after HRR")) return;
  check::that(std::string(p.server->record_layer()) == "own", "own layer after HRR");
  p.talk("hrr");
}

// Resumed handshakes, with the server renewing the ticket (one sent) and not
// (none sent: write sequence 0).
void test_resumption() {
  for (bool renew : {true, false}) {
    TlsConfig cfg;
    testcerts::Pem pem = testcerts::self_signed();
    cfg.server = true;
    cfg.key_pem = pem.key;
    cfg.cert_pem = pem.cert;
    cfg.renew_tickets = renew;
    std::string err;
    auto server_ctx = TlsContext::create(cfg, &err);
    auto client_ctx = context(false);
    for (int visit = 0; visit < 3; ++visit) {
      Pair p(server_ctx, client_ctx);
      p.start("peer");
      if (!check::that(p.handshake(), "handshake")) return;
      // Without renewal our client has no fresh ticket for a third visit
      // (OpenSSL's client marks a used TLS 1.3 session not resumable).
      if (visit < 2 || renew)
        check::that(p.server->session_reused() == (visit > 0),
                    "resumed after the first visit: visit " + std::to_string(visit) + (renew ? " renewing" : " keeping"));
      check::that(std::string(p.server->record_layer()) == "own", "own layer");
      p.talk(std::string(renew ? "renew " : "keep ") + std::to_string(visit));
    }
  }
}

// OpenSSL formats every secret it logs (tls_stream_tls13.cc); a server
// handshake has it log only the two application secrets and the exporter
// secret that comes with the server's (three, not five), also after a
// HelloRetryRequest, when resumed, and when two handshakes on one context
// take turns step by step (each still gets both secrets: both switch).
void test_three_secrets_logged() {
  auto logged = [](Pair& p, const std::string& what) {
    uint64_t before = TlsStream::keylog_lines_for_test();
    if (!check::that(p.handshake(), "handshake " + what)) return;
    check::eq(TlsStream::keylog_lines_for_test() - before, uint64_t{3}, "secrets logged: " + what);
    check::that(std::string(p.server->record_layer()) == "own", "own layer: " + what);
    p.talk(what);
  };
  Pair full;
  logged(full, "full");
  Pair hrr;
  SSL_CTX_set1_groups_list(hrr.server_ctx->ctx(), "P-256");
  SSL_CTX_set1_groups_list(hrr.client_ctx->ctx(), "X25519:P-256");
  logged(hrr, "after HRR");
  Pair first(context(true), context(false)), again(first.server_ctx, first.client_ctx);
  first.start("peer");
  logged(first, "first visit");
  again.start("peer");
  logged(again, "resumed");
  check::that(again.server->session_reused(), "it was resumed");
  Pair a, b(a.server_ctx, context(false));
  a.start();
  b.start();
  for (int round = 0; round < 10 && !(a.server->established() && b.server->established()); ++round) {
    for (Pair* p : {&a, &b}) {
      p->client->handshake();
      transfer(*p->client, *p->server);
    }
    for (Pair* p : {&a, &b}) p->server->handshake();
    for (Pair* p : {&a, &b}) transfer(*p->server, *p->client);
  }
  check::that(std::string(a.server->record_layer()) == "own" && std::string(b.server->record_layer()) == "own",
              "interleaved handshakes on one context both switch");
}

// The client asks for a key update, with and without a request for ours; and
// ours after 2^24 records.
void test_key_updates() {
  Pair p;
  if (!check::that(p.handshake(), "handshake")) return;
  p.talk("before");
  for (int type : {SSL_KEY_UPDATE_NOT_REQUESTED, SSL_KEY_UPDATE_REQUESTED, SSL_KEY_UPDATE_REQUESTED}) {
    check::eq(SSL_key_update(p.client->ssl(), type), 1, "SSL_key_update");
    p.talk("after update " + std::to_string(type));
    p.talk("and again");
  }
}

void test_rekey_after_many_records() {
  Pair p;
  if (!check::that(p.handshake(), "handshake")) return;
  p.talk("first");
  // OpenSSL's client cannot be moved to 2^24 records, so the rekey is
  // checked by its effect on our output: one more record (the KeyUpdate)
  // before the data.
  p.server->set_sequence_for_test(0, uint64_t{1} << 24);
  send(*p.server, "x");
  const uint8_t* data = nullptr;
  size_t n = p.server->output(&data);
  check::eq(static_cast<long long>(n), (5 + 5 + 1 + 16) + (5 + 1 + 1 + 16), "a KeyUpdate record, then the data");
  p.server->consume_output();
}

void test_tampered_record_fails_with_alert() {
  Pair p;
  if (!check::that(p.handshake(), "handshake")) return;
  p.talk("ok");
  send(*p.client, "tampered");
  const uint8_t* data = nullptr;
  size_t n = p.client->output(&data);
  std::vector<uint8_t> rec(data, data + n);
  p.client->consume_output();
  rec[8] ^= 0x20;
  p.server->feed(rec.data(), rec.size());
  uint8_t buf[64];
  check::eq(p.server->read(buf, sizeof buf), TlsStream::kFailed, "the server fails");
  check::that(p.server->error_code() == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC", "reason: " + p.server->error_code());
  check::eq(p.server->read(buf, sizeof buf), TlsStream::kFailed, "and stays failed");
  transfer(*p.server, *p.client);
  check::eq(p.client->read(buf, sizeof buf), TlsStream::kFailed, "the client gets the alert");
  check::that(p.client->error_code() == "SSLV3_ALERT_BAD_RECORD_MAC", "client reason: " + p.client->error_code());
  struct iovec one = {const_cast<char*>("late"), 4};
  check::that(p.server->writev(&one, 1) != 0 || p.server->flush() != 0, "no writes after a failure");
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

// A record read into a small room a piece at a time, with more input fed
// between the pieces; then the input and the records arriving a byte at a time.
void test_partial_reads_and_feeds() {
  Pair p;
  if (!check::that(p.handshake(), "handshake")) return;
  std::string text(5000, 'p');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  send(*p.client, text);
  transfer(*p.client, *p.server);
  uint8_t buf[7];
  int64_t n = p.server->read(buf, sizeof buf);
  std::string got(reinterpret_cast<char*>(buf), n > 0 ? static_cast<size_t>(n) : 0);
  send(*p.client, "tail");
  transfer(*p.client, *p.server);  // fed while the first record is half delivered
  got += drain(*p.server, 7);
  check::that(got == text + "tail", "everything, in order");
  send(*p.client, "byte by byte");
  const uint8_t* data = nullptr;
  size_t len = p.client->output(&data);
  std::vector<uint8_t> rec(data, data + len);
  p.client->consume_output();
  std::string slow;
  for (uint8_t b : rec) {
    p.server->feed(&b, 1);
    slow += drain(*p.server);
  }
  check::that(slow == "byte by byte", "a record fed a byte at a time");
  check::eq(static_cast<long long>(p.server->buffer_capacity()), 0, "no buffers kept after the reads");
}

void test_close_notify_both_ways() {
  Pair p;
  if (!check::that(p.handshake(), "handshake")) return;
  send(*p.server, "last words");
  check::eq(p.server->close_notify(), 0, "server close_notify");
  transfer(*p.server, *p.client);
  int64_t end = 0;
  check::that(drain(*p.client, 4096, &end) == "last words", "data before close_notify");
  check::eq(end, TlsStream::kClosed, "the client sees our close_notify");
  uint8_t buf[16];
  struct iovec one = {const_cast<char*>("late"), 4};
  check::that(p.server->writev(&one, 1) != 0 || p.server->flush() != 0, "no writes after close_notify");
  send(*p.client, "reply");
  check::eq(p.client->close_notify(), 0, "client close_notify");
  transfer(*p.client, *p.server);
  check::that(drain(*p.server) == "reply", "the reply");
  check::eq(p.server->read(buf, sizeof buf), TlsStream::kClosed, "then the end");
}

// The client's application secret, from a keylog callback on the client
// context, so a test can forge what the client would send.
std::string g_client_secret_line;
void client_keylog(const SSL*, const char* line) {
  if (std::strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0) g_client_secret_line = line;
}

// A record the client could have sent: content `body` of inner type `type`.
struct Forger {
  RecordCipher out;
  bool ready = false;
  explicit Forger(Pair& p) {
    std::string line = g_client_secret_line;
    auto secret = hex(line.substr(line.rfind(' ') + 1).c_str());
    const Tls13Suite* s = tls13_suite(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(p.client->ssl())));
    ready = s != nullptr && secret.size() == s->hash_len && out.init(*s, secret.data(), true);
  }
  std::vector<uint8_t> record(uint8_t type, const std::vector<uint8_t>& body) {
    std::vector<uint8_t> rec;
    out.seal(type, body.data(), body.size(), &rec);
    return rec;
  }
};

// What the server makes of one forged record sent first after the handshake.
std::string server_verdict(uint8_t type, const std::vector<uint8_t>& body, std::string* data = nullptr,
                           bool rekey = false) {
  Pair p;
  SSL_CTX_set_keylog_callback(p.client_ctx->ctx(), &client_keylog);
  if (!check::that(p.handshake(), "handshake")) return "";
  Forger f(p);
  if (!check::that(f.ready, "forger keyed")) return "";
  std::vector<uint8_t> rec = f.record(type, body);
  p.server->feed(rec.data(), rec.size());
  if (rekey) f.out.update();
  rec = f.record(kTypeApplicationData, {'o', 'k'});  // what follows, if the server goes on
  p.server->feed(rec.data(), rec.size());
  std::string got = drain(*p.server);
  if (data != nullptr) *data = got;
  uint8_t buf[8];
  int64_t n = p.server->read(buf, sizeof buf);
  return n == TlsStream::kFailed ? p.server->error_code() : n == TlsStream::kClosed ? "closed" : "open";
}

void test_forged_client_records() {
  std::string data;
  check::that(server_verdict(kTypeHandshake, {4, 0, 0, 0}) == "UNEXPECTED_MESSAGE", "a NewSessionTicket from a client");
  check::that(server_verdict(kTypeHandshake, {24, 0, 0, 1, 2}) == "BAD_KEY_UPDATE", "a KeyUpdate asking 2");
  check::that(server_verdict(kTypeHandshake, {24, 0, 0, 2, 0, 0}) == "BAD_LENGTH", "a KeyUpdate of 2 bytes");
  check::that(server_verdict(kTypeHandshake, {24, 0, 0, 1, 0, 24}) == "BAD_LENGTH", "a KeyUpdate not ending its record");
  check::that(server_verdict(kTypeAlert, {2, 40}) == "SSLV3_ALERT_HANDSHAKE_FAILURE", "a fatal alert: OpenSSL's reason");
  check::that(server_verdict(kTypeAlert, {1, 0, 0}) == "INVALID_ALERT", "an alert of 3 bytes");
  check::that(server_verdict(kTypeAlert, {1, 0}, &data) == "closed" && data.empty(), "close_notify ends the stream");
  check::that(server_verdict(kTypeAlert, {1, 90}, &data) == "open" && data == "ok", "user_canceled is ignored");
  check::that(server_verdict(kTypeApplicationData, {}, &data) == "open" && data == "ok", "empty application data is allowed");
  check::that(server_verdict(kTypeHandshake, {24, 0, 0, 1, 0}, &data, true) == "open" && data == "ok", "a KeyUpdate: the next key opens");
  check::that(server_verdict(kTypeHandshake, {24, 0, 0, 1, 0}, &data) == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC" && data.empty(),
              "a KeyUpdate: the old key no longer opens");
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all({{"RFC 8448 key schedule", test_rfc8448_key_schedule},
                         {"expand label matches OpenSSL's HKDF", test_expand_label_matches_openssl_hkdf},
                         {"seal and open", test_seal_open_round_trip},
                         {"bad records refused", test_bad_records_refused},
                         {"sequence never wraps", test_sequence_never_wraps},
                         {"nonces match a reference", test_nonces_match_reference},
                         {"switches on TLS 1.3 only", test_switches_on_tls13_only},
                         {"each suite", test_each_suite},
                         {"small writes coalesce in order", test_small_writes_coalesce_in_order},
                         {"ticket counts", test_ticket_counts},
                         {"hello retry request", test_hello_retry_request},
                         {"resumption", test_resumption},
                         {"three secrets logged", test_three_secrets_logged},
                         {"key updates", test_key_updates},
                         {"rekey after 2^24 records", test_rekey_after_many_records},
                         {"tampered record", test_tampered_record_fails_with_alert},
                         {"partial reads and feeds", test_partial_reads_and_feeds},
                         {"close_notify both ways", test_close_notify_both_ways},
                         {"forged client records", test_forged_client_records}},
                        argc, argv);
}
