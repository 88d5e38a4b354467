/*
 * When a reply arrived, as the kernel saw it.
 *
 * At a fixed rate a reply's latency should end when the server's answer
 * reached our socket, not when we got round to reading it: near 90% of the
 * ceiling we are ~90% busy ourselves, and a saturated server answers in
 * bursts of hundreds of replies that take us milliseconds to read, so a
 * reply read at the end of a burst would carry our reading time as if it
 * were the server's. With SO_TIMESTAMPNS the kernel stamps each segment as
 * it enters the receive path (on loopback, inside the server's own send),
 * and TCP hands recvmsg the stamp of the last segment the read took: for a
 * read that takes several replies, the latest of their arrivals, so the
 * error runs against us, never for us. The stamp is CLOCK_REALTIME; it is
 * moved onto our CLOCK_MONOTONIC by the offset between the two read now
 * (vDSO calls, no system call). What is left of our own delay, from the
 * stamp to the read, goes into its own histogram (rx_lag_us) beside the
 * send lag. (SO_TIMESTAMPNS turns on the stamping of every packet the host
 * receives, the server's too: one clock read each.)
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "loadgen.h"

void rxstamp_enable(int fd) {
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
}

static uint64_t ts_ns(const struct timespec *ts) {
  return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* The stamp of a recvmsg's control data moved onto CLOCK_MONOTONIC, or
 * `now` when there is none (or it is not before now). `real` is read
 * before `now`: the gap between the two reads can only lengthen a latency. */
static uint64_t arrival_ns(struct msghdr *m, uint64_t real, uint64_t now) {
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR(m, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) continue;
    struct timespec stamp;
    memcpy(&stamp, CMSG_DATA(cm), sizeof stamp);
    uint64_t age = real - ts_ns(&stamp); /* how long ago it arrived */
    return age < now ? now - age : now;
  }
  return now;
}

/* read(2) with the arrival time of what it read in *arrived (now_ns() when
 * the kernel gave no stamp). */
ssize_t rxstamp_read(int fd, void *buf, size_t cap, uint64_t *arrived) {
  char ctl[CMSG_SPACE(sizeof(struct timespec))];
  struct iovec iov = {buf, cap};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(fd, &m, 0);
  if (n > 0) {
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    *arrived = arrival_ns(&m, ts_ns(&real), now_ns());
  }
  return n;
}
