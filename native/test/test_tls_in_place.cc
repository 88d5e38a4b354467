// The copy-free paths of a TLS 1.3 server stream on our record layer:
// open_in_place (the loop's usual read: records opened where they were read,
// their content moved together, the tail of a record not all there fed to
// the engine) against an OpenSSL client in memory, with what can follow
// content in one read (a key update asking for ours, close_notify, a
// tampered record); and BufferPool, the buffers a loop's streams borrow
// instead of allocating per request, with its bounds.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "buffer_pool.h"
#include "check.h"
#include "tls_memory.h"
#include "tls_stream.h"

using namespace ioreactor;

namespace {

using tlsmemory::context;
using tlsmemory::drain;
using tlsmemory::send;
using tlsmemory::take_output;
using tlsmemory::transfer;

struct Pair {
  std::unique_ptr<TlsStream> client, server;
  // A handshaken pair, the server on our record layer; the server borrows from pool when given one.
  bool start(BufferPool* pool = nullptr) {
    std::string err;
    server = TlsStream::create(context(true), "", &err);
    client = TlsStream::create(context(false), "", &err);
    if (!check::that(server && client, "streams: " + err)) return false;
    server->set_pool(pool);
    for (int round = 0; round < 10 && !(client->established() && server->established()); ++round) {
      client->handshake();
      transfer(*client, *server);
      server->handshake();
      transfer(*server, *client);
    }
    drain(*server);  // (nothing: the client's Finished was the last)
    return check::that(server->established() && std::string(server->record_layer()) == "own", "own record layer");
  }
  // Opens `wire` in place as the loop does; the content, and the bytes taken in *used.
  std::string open(std::vector<uint8_t> wire, size_t* used) {
    check::that(server->can_open_in_place(), "nothing waiting: in place");
    size_t n = server->open_in_place(wire.data(), wire.size(), used);
    return std::string(reinterpret_cast<char*>(wire.data()), n);
  }
};

// Three records and most of a fourth in one read: the three contents as one
// run, the fourth's start left to feed(); the engine then has input waiting
// (no more in place) until it is read, and keeps no buffer after.
void test_records_and_a_partial_one() {
  Pair p;
  if (!p.start()) return;
  std::vector<uint8_t> wire;
  for (const char* text : {"GET /a HTTP/1.1\r\n\r\n", "", "GET /b HTTP/1.1\r\n\r\n", "GET /c HTTP/1.1\r\n\r\n"}) {
    send(*p.client, text);
    std::vector<uint8_t> rec = take_output(*p.client);
    wire.insert(wire.end(), rec.begin(), rec.end());
  }
  size_t last = wire.size() - (5 + 19 + 1 + 16);  // where the fourth record starts
  size_t cut = wire.size() - 7;
  size_t used = 0;
  std::string got = p.open(std::vector<uint8_t>(wire.begin(), wire.begin() + static_cast<long>(cut)), &used);
  check::that(got == "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", "three records' content, the empty one included: " + got);
  check::eq(static_cast<long long>(used), static_cast<long long>(last), "the fourth record is not taken");
  check::eq(p.server->feed(wire.data() + used, wire.size() - used), 0, "its bytes fed, all of them now");
  check::that(!p.server->can_open_in_place(), "input waiting: not in place");
  check::that(drain(*p.server) == "GET /c HTTP/1.1\r\n\r\n", "the fourth through read()");
  check::that(p.server->can_open_in_place(), "in place again once read");
  check::eq(static_cast<long long>(p.server->buffer_capacity()), 0, "no buffers kept");
  send(*p.server, "HTTP/1.1 200 OK\r\n\r\n");
  transfer(*p.server, *p.client);
  check::that(drain(*p.client) == "HTTP/1.1 200 OK\r\n\r\n", "the client reads our reply");
}

// A key update asking for ours, between two records: the next opens under
// the new key, and our answer (a KeyUpdate) is output the client accepts.
void test_key_update_in_the_middle() {
  Pair p;
  if (!p.start()) return;
  send(*p.client, "before");
  std::vector<uint8_t> wire = take_output(*p.client);
  check::eq(SSL_key_update(p.client->ssl(), SSL_KEY_UPDATE_REQUESTED), 1, "SSL_key_update");
  send(*p.client, " after");
  std::vector<uint8_t> more = take_output(*p.client);
  wire.insert(wire.end(), more.begin(), more.end());
  size_t used = 0;
  check::that(p.open(wire, &used) == "before after", "content on both sides of the key update");
  check::eq(static_cast<long long>(used), static_cast<long long>(wire.size()), "all taken");
  check::that(p.server->has_output(), "our KeyUpdate is waiting to be sent");
  send(*p.server, "reply");
  transfer(*p.server, *p.client);
  check::that(drain(*p.client) == "reply", "the client reads us under our new key: " + p.client->error_code());
}

// Content, then close_notify in the same read: the content first, then the
// end; nothing after the close is taken.
void test_content_then_close_notify() {
  Pair p;
  if (!p.start()) return;
  send(*p.client, "last");
  check::eq(p.client->close_notify(), 0, "client close_notify");
  std::vector<uint8_t> wire = take_output(*p.client);
  wire.insert(wire.end(), {23, 3, 3, 0, 1, 0});  // junk after the close
  size_t used = 0;
  check::that(p.open(wire, &used) == "last", "the content");
  check::eq(static_cast<long long>(used), static_cast<long long>(wire.size()), "everything taken");
  check::that(p.server->has_input(), "the close is still to be reported");
  uint8_t buf[16];
  check::eq(p.server->read(buf, sizeof buf), TlsStream::kClosed, "then the end");
}

// A good record, then one with a byte flipped: the good content, then the
// failure with OpenSSL's reason and our alert, and the client sees it.
void test_content_then_tampered_record() {
  Pair p;
  if (!p.start()) return;
  send(*p.client, "fine");
  std::vector<uint8_t> wire = take_output(*p.client);
  send(*p.client, "tampered");
  std::vector<uint8_t> bad = take_output(*p.client);
  bad[8] ^= 0x20;
  wire.insert(wire.end(), bad.begin(), bad.end());
  size_t used = 0;
  check::that(p.open(wire, &used) == "fine", "the good content");
  uint8_t buf[16];
  check::eq(p.server->read(buf, sizeof buf), TlsStream::kFailed, "then the failure");
  check::that(p.server->error_code() == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC", "reason: " + p.server->error_code());
  transfer(*p.server, *p.client);
  check::eq(p.client->read(buf, sizeof buf), TlsStream::kFailed, "the client gets the alert");
  check::eq(static_cast<long long>(ERR_peek_error()), 0, "error queue empty");
}

// A stream with a pool gives its buffers back once empty, and the next
// request and reply borrow from it instead of allocating.
void test_streams_borrow_from_the_pool() {
  BufferPool pool;
  Pair p;
  if (!p.start(&pool)) return;
  send(*p.server, "one");
  transfer(*p.server, *p.client);
  size_t kept = pool.count();
  check::that(kept >= 2, "the plaintext and output buffers went back to the pool");
  check::eq(static_cast<long long>(p.server->buffer_capacity()), 0, "the stream keeps none");
  send(*p.client, "request");
  std::vector<uint8_t> wire = take_output(*p.client);
  check::eq(p.server->feed(wire.data(), wire.size()), 0, "fed");
  check::eq(static_cast<long long>(pool.count()), static_cast<long long>(kept - 1), "the input buffer is borrowed");
  check::that(drain(*p.server) == "request", "the server reads it");
  check::eq(static_cast<long long>(pool.count()), static_cast<long long>(kept), "and gives it back once read");
  send(*p.server, "two");
  check::eq(static_cast<long long>(pool.count()), static_cast<long long>(kept - 1), "the sealed record waits in a borrowed buffer");
  transfer(*p.server, *p.client);
  check::eq(static_cast<long long>(pool.count()), static_cast<long long>(kept), "all back");
  check::that(drain(*p.client) == "onetwo", "the client reads both");
}

// A write that completes the record waiting and ends on a record boundary
// leaves the plaintext buffer empty: the flush gives it back all the same.
void test_no_buffer_kept_after_a_whole_record() {
  for (BufferPool* pool : {static_cast<BufferPool*>(nullptr), new BufferPool()}) {
    std::unique_ptr<BufferPool> owned(pool);
    Pair p;
    if (!p.start(pool)) return;
    std::string head(100, 'h'), rest(16 * 1024 - 100 + 16 * 1024, 'r');
    struct iovec two[2] = {{&head[0], head.size()}, {&rest[0], rest.size()}};
    check::eq(p.server->writev(&two[0], 1), 0, "a short write waits");
    check::eq(p.server->writev(&two[1], 1), 0, "then one completing two records");
    check::eq(p.server->flush(), 0, "flush");
    transfer(*p.server, *p.client);
    check::eq(static_cast<long long>(p.server->buffer_capacity()), 0, pool ? "no buffer kept (pool)" : "no buffer kept");
    check::that(drain(*p.client, 64 * 1024) == head + rest, "the client reads it all");
  }
}

void test_pool_bounds() {
  BufferPool pool;
  std::vector<uint8_t> v(100);
  const uint8_t* kept = v.data();
  pool.give_back(&v);
  check::that(v.capacity() == 0 && pool.count() == 1 && pool.bytes() >= 100, "a small buffer is kept");
  std::vector<uint8_t> w;
  pool.lend(&w);
  check::that(w.data() == kept && w.empty() && pool.count() == 0 && pool.bytes() == 0, "and lent again, empty");
  std::vector<uint8_t> has(10);
  pool.give_back(&w);
  pool.lend(&has);
  check::eq(static_cast<long long>(pool.count()), 1, "a vector with a buffer of its own borrows none");
  std::vector<uint8_t> big(BufferPool::kMaxEach + 1);
  pool.give_back(&big);
  check::that(big.capacity() == 0 && pool.count() == 1, "a buffer over a record's worth is freed");
  for (size_t i = 0; i < BufferPool::kMaxCount + 10; ++i) {
    std::vector<uint8_t> one(8);
    pool.give_back(&one);
  }
  check::eq(static_cast<long long>(pool.count()), BufferPool::kMaxCount, "at most kMaxCount kept");
  BufferPool full;
  for (int i = 0; i < 100; ++i) {
    std::vector<uint8_t> rec(BufferPool::kMaxEach);
    full.give_back(&rec);
  }
  check::that(full.bytes() <= BufferPool::kMaxBytes, "at most kMaxBytes kept: " + std::to_string(full.bytes()));
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all({{"records and a partial one", test_records_and_a_partial_one},
                         {"key update in the middle", test_key_update_in_the_middle},
                         {"content then close_notify", test_content_then_close_notify},
                         {"content then a tampered record", test_content_then_tampered_record},
                         {"streams borrow from the pool", test_streams_borrow_from_the_pool},
                         {"no buffer kept after a whole record", test_no_buffer_kept_after_a_whole_record},
                         {"pool bounds", test_pool_bounds}},
                        argc, argv);
}
