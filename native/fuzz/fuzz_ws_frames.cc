// Fuzz target: the WebSocket frame test and unmasking copy the bridge runs
// on every short read of a connection that asked for it (ws_frames.h).
//
// The input, from its second byte, is one read, copied into a buffer of
// exactly its length (a read past it is an ASan report); its first byte
// picks the form: 0 as it is, 1 with its first six (or eight) bytes made a
// whole masked frame header of the read's length, so the unmasking path is
// reached at every length. Properties: copy_unmasking agrees with
// whole_masked_frame; a copy that did not unmask is the read; one that did
// keeps header and key, and XOR with the key again gives the read back
// (what lib/reactor/frame-kept.ts relies on); the header's length is the
// read's and its first bytes are FIN, no reserved bits, text or binary,
// masked.
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_common.h"
#include "ws_frames.h"

using namespace ioreactor;
using fuzz::require;

namespace {

// Makes the front of `read` a whole masked frame header for its length when it fits one.
void make_header(std::vector<uint8_t>* read) {
  size_t n = read->size();
  if (n < 6) return;
  uint8_t* p = read->data();
  p[0] = (p[0] & 1) != 0 ? 0x81 : 0x82;
  if (n - 6 <= 125) {
    p[1] = static_cast<uint8_t>(0x80 | (n - 6));
  } else if (n >= 8 && n - 8 <= 0xffff) {
    p[1] = 0xfe;
    p[2] = static_cast<uint8_t>((n - 8) >> 8);
    p[3] = static_cast<uint8_t>(n - 8);
  }
}

void check_copy(const std::vector<uint8_t>& read) {
  size_t n = read.size();
  size_t head = ws::whole_masked_frame(read.data(), n);
  std::vector<uint8_t> out(n);
  bool unmasked = ws::copy_unmasking(out.data(), read.data(), n);
  require(unmasked == (head != 0), "copy_unmasking and whole_masked_frame disagree");
  if (!unmasked) {
    require(out == read, "a read that is not one whole frame was changed");
    return;
  }
  require(head == 6 || head == 8, "header length");
  require((read[0] == 0x81 || read[0] == 0x82) && (read[1] & 0x80) != 0, "not a masked FIN text or binary frame");
  size_t payload = head == 6 ? (read[1] & 0x7f) : ((static_cast<size_t>(read[2]) << 8) | read[3]);
  require(payload + head == n, "the header's length is not the read's");
  require(std::memcmp(out.data(), read.data(), head) == 0, "header or key changed");
  std::vector<uint8_t> back(out);
  ws::xor_mask(back.data() + head, back.data() + head, n - head, back.data() + head - 4);
  require(back == read, "masking again does not give the read back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<uint8_t> read(data + 1, data + size);
  if ((data[0] & 1) != 0) make_header(&read);
  check_copy(read);
  return 0;
}
