/*
 * tunpump: the lab simulator's hands. Opens a TUN device, and
 *   - writes every packet the kernel routes into it to stdout, framed as
 *     [u32 length][u64 CLOCK_MONOTONIC ns when read][packet];
 *   - reads frames [u32 length][u64 send-at CLOCK_MONOTONIC ns][packet] from
 *     stdin and writes each packet into the TUN device at that time.
 * The path logic (which hop answers, with what, after how long) is TypeScript
 * (path.ts); keeping the clock work here makes simulated delays exact to tens
 * of microseconds whatever the Node process is doing.
 * A zero-length frame on stdout means "device is up". EOF on stdin ends it.
 * Usage: tunpump IFNAME   (run inside the lab namespace; needs CAP_NET_ADMIN)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 65536
#define MAX_PENDING 65536
/* A sleeping thread wakes late on a virtual machine (hundreds of µs): sleep
 * until this long before a deadline, then poll without sleeping. */
#define SPIN_NS 400000ull

typedef struct {
  uint64_t at;
  uint32_t len;
  unsigned char *data;
} pending_t;

static pending_t heap[MAX_PENDING];
static int npending;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void heap_push(pending_t p) {
  int i = npending++;
  heap[i] = p;
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (heap[parent].at <= heap[i].at) break;
    pending_t t = heap[parent];
    heap[parent] = heap[i];
    heap[i] = t;
    i = parent;
  }
}

static pending_t heap_pop(void) {
  pending_t top = heap[0];
  heap[0] = heap[--npending];
  int i = 0;
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < npending && heap[l].at < heap[m].at) m = l;
    if (r < npending && heap[r].at < heap[m].at) m = r;
    if (m == i) break;
    pending_t t = heap[m];
    heap[m] = heap[i];
    heap[i] = t;
    i = m;
  }
  return top;
}

static int write_all(int fd, const void *buf, size_t len) {
  const unsigned char *p = buf;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* stdin is read in chunks into this buffer and split into frames. */
static unsigned char inbuf[4 * MAX_PACKET];
static size_t inlen;

static int read_frames(void) {
  ssize_t n = read(0, inbuf + inlen, sizeof inbuf - inlen);
  if (n == 0) return -1;
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
  inlen += (size_t)n;
  size_t off = 0;
  while (inlen - off >= 12) {
    uint32_t len;
    uint64_t at;
    memcpy(&len, inbuf + off, 4);
    memcpy(&at, inbuf + off + 4, 8);
    if (len > MAX_PACKET) return -1;
    if (inlen - off < 12 + len) break;
    if (npending < MAX_PENDING) {
      unsigned char *copy = malloc(len);
      if (copy) {
        memcpy(copy, inbuf + off + 12, len);
        heap_push((pending_t){at, len, copy});
      }
    }
    off += 12 + len;
  }
  memmove(inbuf, inbuf + off, inlen - off);
  inlen -= off;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2 || strlen(argv[1]) >= IFNAMSIZ) {
    fprintf(stderr, "usage: tunpump IFNAME\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  /* Sleep precisely: the default 50 µs timer slack would blur delays. */
  prctl(PR_SET_TIMERSLACK, 1UL);
  /* The pump plays the network: it must not wait for a CPU behind the
   * tracer it measures (on a 2-core machine it otherwise stamps a burst of
   * probes late). Real-time priority where allowed; best effort otherwise. */
  struct sched_param sp = {.sched_priority = 50};
  if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) perror("tunpump: SCHED_FIFO (timings will be less exact)");
  int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun < 0) {
    perror("tunpump: /dev/net/tun");
    return 1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(tun, TUNSETIFF, &ifr) < 0) {
    perror("tunpump: TUNSETIFF");
    return 1;
  }
  fcntl(tun, F_SETFL, O_NONBLOCK);
  uint32_t zero = 0;
  uint64_t t0 = now_ns();
  unsigned char hdr[12];
  memcpy(hdr, &zero, 4);
  memcpy(hdr + 4, &t0, 8);
  if (write_all(1, hdr, 12)) return 1;

  static unsigned char pkt[MAX_PACKET];
  for (;;) {
    uint64_t now = now_ns();
    while (npending && heap[0].at <= now) {
      pending_t p = heap_pop();
      if (write(tun, p.data, p.len) < 0 && errno != EIO && errno != EINVAL) perror("tunpump: write");
      free(p.data);
    }
    struct pollfd fds[2] = {{tun, POLLIN, 0}, {0, POLLIN, 0}};
    struct timespec timeout, *tp = NULL;
    if (npending) {
      uint64_t wait = heap[0].at > now + SPIN_NS ? heap[0].at - now - SPIN_NS : 0;
      timeout.tv_sec = (time_t)(wait / 1000000000ull);
      timeout.tv_nsec = (long)(wait % 1000000000ull);
      tp = &timeout;
    }
    int r = ppoll(fds, 2, tp, NULL);
    if (r < 0) {
      if (errno == EINTR) continue;
      perror("tunpump: ppoll");
      return 1;
    }
    if (fds[0].revents & POLLIN) {
      for (;;) {
        ssize_t n = read(tun, pkt, sizeof pkt);
        if (n <= 0) break;
        uint64_t at = now_ns();
        uint32_t len = (uint32_t)n;
        memcpy(hdr, &len, 4);
        memcpy(hdr + 4, &at, 8);
        if (write_all(1, hdr, 12) || write_all(1, pkt, (size_t)n)) return 0;
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      if (read_frames() < 0) return 0;
    }
  }
}
