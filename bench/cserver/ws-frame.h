/* The WebSocket pieces of the C ceiling (c-ws.c): the 101 answer and
 * RFC 6455 frames, with no I/O. ws-frame.c says what is accepted. */
#ifndef CSERVER_WS_FRAME_H
#define CSERVER_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define WSF_TEXT 1
#define WSF_BINARY 2
#define WSF_CLOSE 8
#define WSF_PING 9
#define WSF_PONG 10
/* The largest payload taken from a client: a whole frame must fit in the
 * server's 64 KiB read buffer behind a kept partial one. The load
 * generator sends at most 8,000 bytes. */
#define WSF_MAX_PAYLOAD 32768
/* A server frame's header is at most this long (no mask). */
#define WSF_MAX_HEADER 10

struct ws_frame {
  int op;
  uint8_t *payload; /* unmasked in place */
  size_t len;
};

/* The frame at the front of p: its whole length (payload unmasked), 0 if
 * it is not all there yet, -1 if it is not one this server takes. */
long wsf_parse(uint8_t *p, size_t avail, struct ws_frame *f);

/* An unmasked, final server frame header for op and len into h; its length. */
size_t wsf_header(uint8_t *h, int op, size_t len);

/* The "101 Switching Protocols" answer to one complete request head, into
 * out; its length, or -1 if the head has no usable Sec-WebSocket-Key. */
long wsf_upgrade(const char *head, size_t len, char *out, size_t cap);

#endif
