// UDP socket helpers for the loop: open and bind, connect, send, and batched
// receive into a caller's buffer in the encoding JS decodes (below). Nothing
// here knows about the loop or Node; ctest drives it alone. Sockets are
// non-blocking and close-on-exec from birth. Errors are -errno values.
//
// Datagram encoding (what a kRecDatagram record's offset points at):
//   byte 0      family: 4 or 6
//   byte 1      flags: bit 0 = truncated (the datagram was longer than
//               max_packet; the first max_packet bytes are kept, as Twisted's
//               recvfrom(maxPacketSize) keeps them)
//   bytes 2-3   sender port, big-endian
//   bytes 4-..  sender address: 4 bytes (IPv4) or 16 bytes (IPv6)
//   then        the payload (the record's length says how long)
// A received IPv4-mapped IPv6 sender (dual-stack "::" socket) stays family 6,
// as Node reports it.
#ifndef IOREACTOR_DGRAM_H
#define IOREACTOR_DGRAM_H

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "loop.h"

namespace ioreactor {
namespace dgram {

constexpr uint8_t kTruncated = 1;
constexpr size_t kHeader4 = 8;
constexpr size_t kHeader6 = 20;
constexpr size_t kMaxHeader = kHeader6;
constexpr size_t kMaxPacket = 65536;  // larger than any UDP payload

// A UDP socket bound to addr (numeric host; port 0 picks one; "::" is
// dual-stack). Returns the fd or -errno.
int open_bound(const SockAddr& addr);

// Connects (or, with an empty host, disconnects) a UDP socket. An IPv4 peer on
// an IPv6 socket is reached through its IPv4-mapped address.
int connect_to(int fd, const SockAddr& peer);

// Sends one datagram to dest, or to the connected peer when dest is null.
// Returns bytes sent or -errno (EAGAIN when the send buffer is full,
// EMSGSIZE when too long, ECONNREFUSED from an earlier ICMP error).
int64_t send_to(int fd, const uint8_t* data, size_t len, const SockAddr* dest);

// Where one received datagram landed in the caller's buffer.
struct Received {
  uint32_t offset;  // of the header
  uint32_t length;  // of the payload, which follows the header
};

enum class RecvMode : uint8_t { kBatch, kSingle };

// Reads up to max_count datagrams (recvmmsg in kBatch mode on Linux, else one
// recvmsg per datagram) of at most max_packet bytes each into buf, encoded as
// above and packed back to back; out[i] says where each is. *used gets the
// bytes consumed. Reads only as many as fit `room` at max_packet each.
// Returns the count (0 when nothing is waiting) or -errno (ECONNREFUSED on a
// connected socket whose peer is not listening; nothing was read then).
int recv_batch(int fd, uint8_t* buf, size_t room, size_t max_packet, RecvMode mode,
               Received* out, int max_count, size_t* used);

// Header size for an address of this family (4 or 6); 0 for others.
size_t header_size(int family);

}  // namespace dgram
}  // namespace ioreactor

#endif  // IOREACTOR_DGRAM_H
