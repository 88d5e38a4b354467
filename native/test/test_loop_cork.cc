// Writes gathered while a delivery runs (Loop::set_cork_writes,
// loop_cork.cc), on every backend: nothing leaves during the delivery, all
// of it leaves when it ends, one send per stream and in the order written;
// whatever asks for the stream's state sends first; a write too large or
// beyond the gathered bytes' bound keeps its order; a removed stream's bytes
// are sent once before it closes; a send that fails at the end is an error
// record.
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "backends.h"
#include "check.h"
#include "loop_env.h"

using namespace loop_env;

namespace {

// Bytes the peer's socket holds unread, without taking them (a stream of the loop).
std::string peek(Env& env, int32_t slot) {
  char buf[4096];
  ssize_t n = recv(env.loop->fd_of(slot), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// A pair with corking on whose server runs `act` once, from inside the
// delivery of the client's first bytes.
bool corked_pair(Env& env, int32_t* c, int32_t* s, std::function<void()> act) {
  env.loop->set_cork_writes(true);
  int32_t l;
  if (!tcp_pair(env, &l, c, s)) return false;
  int32_t server = *s;
  auto once = std::make_shared<std::function<void()>>(std::move(act));
  env.sink.hook = [&env, server, once](const Record* recs, int count) {
    for (int i = 0; i < count; ++i) {
      if (recs[i].type != kRecData || recs[i].slot != server || !*once) continue;
      auto f = std::move(*once);
      *once = nullptr;
      f();
    }
  };
  return check::eq(env.loop->write(*c, bytes("go"), 2), 0, "the client's write (outside a delivery) sent at once");
}

void test_gathered(Backend b) {
  Env env(b);
  int32_t c, s;
  std::string inside = "unset";
  if (!corked_pair(env, &c, &s, [&] {
        check::eq(env.loop->write(s, bytes("ab"), 2), 0, "a gathered write reports nothing left");
        check::eq(env.loop->write(c, bytes("x"), 1), 0, "another stream's write");
        check::eq(env.loop->write(s, bytes("cd"), 2), 0, "the first stream again");
        inside = peek(env, c);
      })) {
    return;
  }
  check::that(env.pump([&] { return env.got(c) == "abcd" && env.got(s) == "gox"; }), "all of it arrived, in order");
  check::eq(static_cast<long long>(inside.size()), 0, "nothing had left during the delivery");
  check::eq(static_cast<long long>(env.loop->stats().corked_writes), 3, "three writes gathered");
  check::eq(static_cast<long long>(env.loop->stats().corked_sends), 2, "one send per stream");
}

void test_off(Backend b) {
  Env env(b);
  int32_t c, s;
  std::string inside;
  if (!corked_pair(env, &c, &s, [&] {
        env.loop->set_cork_writes(false);
        env.loop->write(s, bytes("now"), 3);
        inside = peek(env, c);
      })) {
    return;
  }
  check::that(env.pump([&] { return env.got(c) == "now"; }), "arrived");
  check::that(inside == "now", "sent during the delivery");
  check::eq(static_cast<long long>(env.loop->stats().corked_writes), 0, "nothing gathered");
}

void test_asked_first(Backend b) {
  Env env(b);
  int32_t c, s;
  std::string inside;
  long long left = -1;
  if (!corked_pair(env, &c, &s, [&] {
        env.loop->write(s, bytes("q"), 1);
        left = env.loop->buffered(s);
        inside = peek(env, c);
      })) {
    return;
  }
  check::that(env.pump([&] { return env.got(c) == "q"; }), "arrived once");
  check::eq(left, 0, "buffered: nothing left once sent");
  check::that(inside == "q", "buffered() sent it");
}

// Writes `sent` from inside the delivery, then ends the stream with `end`:
// the peer must see the bytes, then EOF.
void ends_after_write(Backend b, const std::string& sent, const std::function<void(Env&, int32_t)>& end,
                      const std::string& what) {
  Env env(b);
  int32_t c, s;
  if (!corked_pair(env, &c, &s, [&] {
        env.loop->write(s, bytes(sent), sent.size());
        end(env, s);
      })) {
    return;
  }
  check::that(env.pump([&] { return env.sink.count(kRecEof, c) == 1; }), what + ": the peer sees EOF");
  check::that(env.got(c) == sent, what + ": after the bytes");
}

void test_finish_and_shutdown(Backend b) {
  long long finished = -1;
  ends_after_write(b, "bye", [&](Env& env, int32_t s) { finished = env.loop->finish(s); }, "finish");
  check::eq(finished, 0, "finish removed it");
  ends_after_write(b, "half", [](Env& env, int32_t s) { env.loop->shutdown_write(s); }, "half-close");
}

// A write over the per-write bound, and writes past the gathered bytes'
// bound, go at once after what their stream gathered.
void test_order_past_bounds(Backend b) {
  Env env(b);
  int32_t c, s;
  constexpr size_t kPiece = 3 * 1024, kPieces = 90;  // 270 KiB in all: past the gathered bytes' bound
  std::string want = "small";
  for (size_t i = 0; i < kPieces; ++i) want += pattern(kPiece, i);
  want += pattern(40 * 1024, 99);
  if (!corked_pair(env, &c, &s, [&] {
        env.loop->write(s, bytes("small"), 5);
        for (size_t i = 0, at = 5; i < kPieces; ++i, at += kPiece) env.loop->write(s, bytes(want) + at, kPiece);
        env.loop->write(s, bytes(want) + want.size() - 40 * 1024, 40 * 1024);  // past the per-write bound
      })) {
    return;
  }
  check::that(env.pump([&] { return env.got(c).size() >= want.size(); }, 20000), "everything arrived");
  check::that(env.got(c) == want, "in the order written");
  check::eq(static_cast<long long>(env.loop->stats().corked_writes), 1 + (256 * 1024 - 5) / kPiece,
            "gathered until the bound, then sent at once");
}

// A write over 4 KiB while nothing is gathered leaves at once; a writev is one gathered write.
void test_large_and_writev(Backend b) {
  Env env(b);
  int32_t c, s;
  std::string big = pattern(5 * 1024, 3), inside;
  static const char a[] = "a", bc[] = "bc";
  if (!corked_pair(env, &c, &s, [&] {
        env.loop->write(s, bytes(big), big.size());
        inside = peek(env, c);
        const uint8_t* parts[] = {reinterpret_cast<const uint8_t*>(a), reinterpret_cast<const uint8_t*>(bc)};
        size_t lens[] = {1, 2};
        env.loop->writev(s, parts, lens, 2);
      })) {
    return;
  }
  check::that(env.pump([&] { return env.got(c).size() == big.size() + 3; }), "everything arrived");
  check::that(env.got(c) == big + "abc", "in order");
  check::that(inside.size() > 0 && big.compare(0, inside.size(), inside) == 0, "the large write left at once");
  check::eq(static_cast<long long>(env.loop->stats().corked_writes), 1, "only the writev was gathered");
}

// remove() (an abort) sends what the stream gathered, once, as the writes
// would have gone at once without corking; then the close.
void test_removed(Backend b) {
  ends_after_write(b, "gone", [](Env& env, int32_t s) { env.loop->remove(s); }, "remove");
}

void test_failed_at_end(Backend b) {
  Env env(b);
  int32_t c, s;
  if (!corked_pair(env, &c, &s, [&] {
        linger lg{1, 0};  // the client resets now
        setsockopt(env.loop->fd_of(c), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        env.loop->remove(c);
        check::eq(env.loop->write(s, bytes("late"), 4), 0, "gathered: its failure is not known yet");
      })) {
    return;
  }
  check::that(env.pump([&] { return env.sink.count(kRecError, s) == 1; }), "the failed send is an error record");
  check::eq(env.loop->write(s, bytes("x"), 1), -EPIPE, "the stream is dead");
}

}  // namespace

int main(int argc, char** argv) {
  check::raise_fd_limit();
  const int fds_before = check::open_fds();
  std::vector<check::Case> cases;
  check::add_backend_cases(&cases, {
      {"gathered until the delivery ends", test_gathered},
      {"off", test_off},
      {"buffered sends first", test_asked_first},
      {"finish and shutdown send first", test_finish_and_shutdown},
      {"order past the bounds", test_order_past_bounds},
      {"large write and writev", test_large_and_writev},
      {"removed stream", test_removed},
      {"failed at the end", test_failed_at_end},
  });
  cases.push_back({"no fd leak", [fds_before] { check::eq(check::open_fds(), fds_before, "open fds"); }});
  return check::run_all(cases, argc, argv);
}
