// WebSocket frames unmasked on their way into JavaScript (RFC 6455 5.2-5.3).
//
// A server receives every frame masked, and unmasking 64 bytes in JS cost
// ~500 instructions of the ~4,300 an echoed message took (bench/PERFORMANCE.md).
// The bridge copies each short read into a keep chunk anyway
// (bridge_dispatch.cc); for a connection whose protocol asked for it, a read
// that is exactly one whole masked data frame is unmasked in that copy.
//
// No state is kept per connection, and nothing here decides that a frame is
// valid: the test is on the read's bytes alone (does it look like one whole
// frame from its first byte?). Whether the read really begins at a frame
// boundary only JavaScript knows; when it does not (the read continues a
// frame cut by an earlier one), JS masks the bytes again with the same key,
// which the copy leaves in place, and so gets the peer's bytes back exactly
// (lib/websocket/whole-frame.ts). Header and key are copied unchanged.
#ifndef IOREACTOR_WS_FRAMES_H
#define IOREACTOR_WS_FRAMES_H

#include <cstddef>
#include <cstdint>

namespace ioreactor {
namespace ws {

// The header length (mask key included: 6 or 8) when the `len` bytes at `p`
// are exactly one whole masked data frame: FIN set, no reserved bits, text
// or binary, a 7-bit length or the 16-bit form; else 0. The same test as
// headAt in lib/websocket/whole-frame.ts, without its size limit.
size_t whole_masked_frame(const uint8_t* p, size_t len);

// XORs `n` bytes of `src` into `dst` with the 4-byte `key`, its phase
// starting at 0 at src[0]. dst may be src.
void xor_mask(uint8_t* dst, const uint8_t* src, size_t n, const uint8_t* key);

// Copies `len` bytes from `src` to `dst` (not overlapping); when they are one
// whole masked data frame (whole_masked_frame), its payload is unmasked in
// the copy and the result is true.
bool copy_unmasking(uint8_t* dst, const uint8_t* src, size_t len);

}  // namespace ws
}  // namespace ioreactor

#endif  // IOREACTOR_WS_FRAMES_H
