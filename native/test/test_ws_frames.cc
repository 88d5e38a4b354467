// The WebSocket frames the bridge unmasks on the way into JS (ws_frames.h):
// which reads count as one whole masked data frame, the unmasking at every
// length (the 16-byte, 8-byte and single-byte steps), and that anything
// else is copied unchanged.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "ws_frames.h"

using namespace ioreactor;

namespace {

const uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};

// A masked client frame: first byte, then length (7 or 16 bits), the key, the payload masked.
std::vector<uint8_t> frame(uint8_t first, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> f{first};
  size_t n = payload.size();
  if (n <= 125) {
    f.push_back(static_cast<uint8_t>(0x80 | n));
  } else {
    f.insert(f.end(), {0xfe, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
  }
  f.insert(f.end(), kKey, kKey + 4);
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<uint8_t>(payload[i] ^ kKey[i & 3]));
  return f;
}

void test_rfc_example() {
  // RFC 6455 5.7: a single-frame masked text message, "Hello".
  const std::vector<uint8_t> hello{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  std::vector<uint8_t> out(hello.size());
  check::that(ws::copy_unmasking(out.data(), hello.data(), hello.size()), "unmasked");
  check::that(std::memcmp(out.data(), hello.data(), 6) == 0, "header and key copied as they were");
  check::that(std::string(out.begin() + 6, out.end()) == "Hello", "payload unmasked");
}

void test_every_length() {
  for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 64, 125, 126, 127, 200, 4089}) {
    std::vector<uint8_t> payload(n);
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<uint8_t>(i * 13 + n);
    std::vector<uint8_t> f = frame(0x82, payload);
    size_t head = n <= 125 ? 6 : 8;
    check::eq(static_cast<long long>(ws::whole_masked_frame(f.data(), f.size())), static_cast<long long>(head), "header of " + std::to_string(n));
    std::vector<uint8_t> out(f.size());
    check::that(ws::copy_unmasking(out.data(), f.data(), f.size()), "unmasked at " + std::to_string(n));
    check::that(std::vector<uint8_t>(out.begin() + static_cast<long>(head), out.end()) == payload, "payload at " + std::to_string(n));
  }
}

// Copied unchanged, and not counted as a whole frame.
void refused(const std::vector<uint8_t>& read, const std::string& what) {
  check::eq(static_cast<long long>(ws::whole_masked_frame(read.data(), read.size())), 0, what);
  std::vector<uint8_t> out(read.size());
  check::that(!ws::copy_unmasking(out.data(), read.data(), read.size()) && out == read, what + ": copied as it was");
}

void test_other_reads() {
  const std::vector<uint8_t> p{1, 2, 3};
  std::vector<uint8_t> unmasked = frame(0x82, p);
  unmasked[1] &= 0x7f;
  refused({}, "empty");
  refused({0x82}, "one byte");
  refused(unmasked, "an unmasked frame");
  refused(frame(0x02, p), "a first fragment");
  refused(frame(0x80, p), "a continuation");
  refused(frame(0x89, p), "a ping");
  refused(frame(0x88, p), "a close");
  refused(frame(0xc1, p), "RSV1");
  refused(frame(0x83, p), "an unknown opcode");
  std::vector<uint8_t> two = frame(0x82, p);
  std::vector<uint8_t> second = frame(0x81, p);
  two.insert(two.end(), second.begin(), second.end());
  refused(two, "two frames");
  std::vector<uint8_t> cut = frame(0x82, std::vector<uint8_t>(200));
  refused(std::vector<uint8_t>(cut.begin(), cut.end() - 1), "a frame missing its last byte");
  refused(std::vector<uint8_t>(cut.begin(), cut.begin() + 3), "a 16-bit length cut");
  refused({0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 9}, "a 64-bit length");
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all({{"rfc example", test_rfc_example},
                         {"every length", test_every_length},
                         {"other reads", test_other_reads}},
                        argc, argv);
}
