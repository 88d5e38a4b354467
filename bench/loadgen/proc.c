/*
 * What we read about processes: the server's CPU time and resident memory
 * from /proc, our own CPU time, and our own fd limit.
 *
 * /proc/PID/stat counts utime and stime (summed over all threads, so V8's
 * GC helpers count as server time) in clock ticks of 1/sysconf(_SC_CLK_TCK)
 * s, usually 10 ms: a window of a few seconds at full load gives hundreds of
 * ticks, fine for a per-operation figure. The command name in field 2 may
 * hold spaces or parentheses, so fields are counted from the last ')'.
 *
 * /proc/PID/schedstat's second field is the time the main thread (for Node,
 * the event loop) spent runnable but waiting for a CPU: on a shared machine
 * it tells a slow server from a starved one.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "loadgen.h"

static long read_rss_kb(int pid) {
  char path[64], line[256];
  long kb = -1;
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
  fclose(f);
  return kb;
}

struct proc_sample proc_read(int pid) {
  struct proc_sample s = {0, 0, -1, 0, 0};
  char path[64], buf[1024];
  if (pid <= 0) return s;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return s;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  unsigned long ut, st;
  /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt
   * cmajflt utime stime */
  if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                   &ut, &st) != 2)
    return s;
  double tick = (double)sysconf(_SC_CLK_TCK);
  s.utime_s = (double)ut / tick;
  s.stime_s = (double)st / tick;
  s.rss_kb = read_rss_kb(pid);
  s.runq_wait_s = runq_wait_seconds(pid);
  s.ok = 1;
  return s;
}

double runq_wait_seconds(int pid) {
  char path[64];
  unsigned long long run, wait = 0;
  if (pid > 0) snprintf(path, sizeof path, "/proc/%d/schedstat", pid);
  else snprintf(path, sizeof path, "/proc/self/schedstat");
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  if (fscanf(f, "%llu %llu", &run, &wait) != 2) wait = 0;
  fclose(f);
  return (double)wait / 1e9;
}

double self_cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}
