/*
 * Writes the fuzz seed corpus: control buffers as the kernel fills them for
 * the addon's sockets, read with the options sockets.c sets.  Everything goes
 * over loopback (127.0.0.1 and ::1) only.
 *
 *   cc -o make_seeds native/fuzz/make_seeds.c && ./make_seeds native/fuzz/corpus
 *
 * udp4-stamp-ttl       SCM_TIMESTAMPING + IP_TTL (a datagram to ourselves)
 * udp6-stamp-hoplimit  SCM_TIMESTAMPING + IPV6_HOPLIMIT
 * udp4-recverr         error queue after a datagram to a closed port:
 *                      SCM_TIMESTAMPING + IP_TTL + IP_RECVERR (sockaddr_in offender)
 * udp6-recverr         the same over IPv6: IPV6_RECVERR (sockaddr_in6 offender)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_RECVERR_RFC4884
#define IP_RECVERR_RFC4884 26
#endif
#ifndef IPV6_RECVERR_RFC4884
#define IPV6_RECVERR_RFC4884 31
#endif

static void die(const char *what) {
  perror(what);
  exit(1);
}

static socklen_t loopback(int family, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *sin;
  }
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons((uint16_t)port);
  sin6->sin6_addr = in6addr_loopback;
  return sizeof *sin6;
}

static int port_of(const struct sockaddr_storage *ss) {
  return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                        : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* A UDP socket bound to loopback with the receive options of sockets.c. */
static int probe_socket(int family, struct sockaddr_storage *local) {
  int fd = socket(family, SOCK_DGRAM, IPPROTO_UDP);
  if (fd < 0) die("socket");
  int one = 1, v6 = family == AF_INET6;
  int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &tsflags, sizeof tsflags)) die("SO_TIMESTAMPING");
  if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL, &one, sizeof one))
    die("RECVTTL");
  if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof one))
    die("RECVERR");
  /* Linux >= 5.9; older kernels just lack the RFC 4884 offset. */
  setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR_RFC4884 : IP_RECVERR_RFC4884, &one, sizeof one);
  socklen_t len = loopback(family, 0, local);
  if (bind(fd, (struct sockaddr *)local, len)) die("bind");
  len = sizeof *local;
  if (getsockname(fd, (struct sockaddr *)local, &len)) die("getsockname");
  return fd;
}

/* A loopback port nothing listens on (bound, then released). */
static int closed_port(int family) {
  struct sockaddr_storage ss;
  int fd = socket(family, SOCK_DGRAM, IPPROTO_UDP);
  if (fd < 0) die("socket");
  socklen_t len = loopback(family, 0, &ss);
  if (bind(fd, (struct sockaddr *)&ss, len)) die("bind");
  len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len)) die("getsockname");
  close(fd);
  return port_of(&ss);
}

/* Receive one message (waiting up to a second) and write its control buffer. */
static void save(int fd, int errqueue, const char *dir, const char *name) {
  struct pollfd p = {fd, errqueue ? 0 : POLLIN, 0};
  if (poll(&p, 1, 1000) != 1) {
    fprintf(stderr, "%s: nothing arrived\n", name);
    exit(1);
  }
  unsigned char data[512];
  union {
    unsigned char buf[512]; /* RX_CONTROL in receive.c */
    struct cmsghdr align;
  } control;
  struct iovec iov = {data, sizeof data};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  if (recvmsg(fd, &msg, MSG_DONTWAIT | (errqueue ? MSG_ERRQUEUE : 0)) < 0) die(name);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(control.buf, 1, msg.msg_controllen, f) != msg.msg_controllen || fclose(f)) die(path);
  printf("%s: %zu bytes\n", path, (size_t)msg.msg_controllen);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <dir>\n", argv[0]);
    return 2;
  }
  static const struct {
    int family;
    const char *normal, *error;
  } runs[] = {{AF_INET, "udp4-stamp-ttl", "udp4-recverr"}, {AF_INET6, "udp6-stamp-hoplimit", "udp6-recverr"}};
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
    int family = runs[i].family;
    struct sockaddr_storage local, to;
    int fd = probe_socket(family, &local);
    socklen_t len = loopback(family, port_of(&local), &to);
    if (sendto(fd, "seed", 4, 0, (struct sockaddr *)&to, len) != 4) die("sendto self");
    save(fd, 0, argv[1], runs[i].normal);
    len = loopback(family, closed_port(family), &to);
    if (sendto(fd, "seed", 4, 0, (struct sockaddr *)&to, len) != 4) die("sendto closed port");
    save(fd, 1, argv[1], runs[i].error);
    close(fd);
  }
  return 0;
}
