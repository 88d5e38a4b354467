// See ws_frames.h: the one place that reads a peer's frame header natively.
// Eight bytes at a time through memcpy (unaligned loads are what the
// compiler makes of it on x86-64 and arm64), then the tail byte by byte.
#include "ws_frames.h"

#include <cstring>

namespace ioreactor {
namespace ws {

size_t whole_masked_frame(const uint8_t* p, size_t len) {
  if (len < 2) return 0;
  if (p[0] != 0x81 && p[0] != 0x82) return 0;  // FIN, no RSV bits, text or binary
  if ((p[1] & 0x80) == 0) return 0;             // not masked: JS reports that
  size_t payload = p[1] & 0x7f;
  size_t head = 6;
  if (payload == 127) return 0;  // 64-bit lengths never fit a short read
  if (payload == 126) {
    if (len < 4) return 0;
    payload = (static_cast<size_t>(p[2]) << 8) | p[3];
    head = 8;
  }
  return len >= head && payload == len - head ? head : 0;
}

void xor_mask(uint8_t* dst, const uint8_t* src, size_t n, const uint8_t* key) {
  uint32_t k4;
  std::memcpy(&k4, key, sizeof k4);
  const uint64_t k = (static_cast<uint64_t>(k4) << 32) | k4;  // the key twice in memory order, either endianness
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    uint64_t w[2];
    std::memcpy(w, src + i, sizeof w);
    w[0] ^= k;
    w[1] ^= k;
    std::memcpy(dst + i, w, sizeof w);
  }
  if (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, src + i, sizeof w);
    w ^= k;
    std::memcpy(dst + i, &w, sizeof w);
    i += 8;
  }
  for (; i < n; ++i) dst[i] = static_cast<uint8_t>(src[i] ^ key[i & 3]);
}

bool copy_unmasking(uint8_t* dst, const uint8_t* src, size_t len) {
  if (len == 0) return false;  // memcpy's pointers must be valid even for 0 bytes (fuzz_ws_frames)
  size_t head = whole_masked_frame(src, len);
  if (head == 0) {
    std::memcpy(dst, src, len);
    return false;
  }
  std::memcpy(dst, src, head);
  xor_mask(dst + head, src + head, len - head, src + head - 4);
  return true;
}

}  // namespace ws
}  // namespace ioreactor
