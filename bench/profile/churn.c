// Sequential churn: TOTAL times connect, send 64 B, read the echo, close. usage: churn PORT TOTAL
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char** argv) {
  int port = atoi(argv[1]); long total = atol(argv[2]);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = htonl(0x7f000001);
  char buf[64]; memset(buf, 'y', 64);
  for (long i = 0; i < total; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (void*)&a, sizeof a) < 0) { perror("connect"); return 1; }
    if (write(fd, buf, 64) != 64) { perror("write"); return 1; }
    int got = 0; while (got < 64) { int n = read(fd, buf, 64 - got); if (n <= 0) { perror("read"); return 1; } got += n; }
    close(fd);
  }
  printf("conns %ld\n", total);
  return 0;
}
