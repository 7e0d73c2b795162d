/*
 * tunpump: the lab simulator's hands. Opens a TUN device, and
 *   - writes every packet the kernel routes into it to stdout, framed as
 *     [u32 length][u64 CLOCK_MONOTONIC ns when read][packet]; or, when a
 *     packet socket on the device saw it leave the IP stack with a kernel
 *     stamp, [u32 length|KERNEL][u64 that stamp][u64 ns when read][packet]
 *     (the probe's true arrival: reading it can lag by the pump's wake-up);
 *   - reads frames [u32 length][u64 send-at CLOCK_MONOTONIC ns][packet] from
 *     stdin and writes each packet into the TUN device at that time.
 *   - A stdin frame whose length has bit 31 set carries a u32 tag before the
 *     packet ([u32 len|TAGGED][u64 at][u32 tag][packet]); once such a packet
 *     is written, tunpump reports when it really left, on stdout:
 *     [u32 12|TAGGED][u64 ns just before write()][u32 tag][u64 ns after it].
 *     These are the lab's truth for RTTs (the due time is only the intent: a
 *     busy host makes the pump late by a few µs to a few ms).
 * The path logic (which hop answers, with what, after how long) is TypeScript
 * (path.ts); keeping the clock work here makes simulated delays exact to tens
 * of microseconds whatever the Node process is doing.
 * A zero-length frame on stdout means "device is up". EOF on stdin ends it.
 * Usage: tunpump IFNAME   (run inside the lab namespace; needs CAP_NET_ADMIN)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 65536
#define MAX_PENDING 65536
/* A sleeping thread wakes late on a virtual machine (hundreds of µs): sleep
 * until this long before a deadline, then poll without sleeping. */
#define SPIN_NS 400000ull
#define TAGGED 0x80000000u
#define REPORT_BATCH 256
#define KERNEL 0x40000000u
/* Packets seen by the packet socket but not yet read from the TUN device. */
#define TAPPED 1024
#define TAP_BYTES 128

typedef struct {
  uint64_t at;
  uint32_t len;
  int tagged;
  uint32_t tag;
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

/* The packet socket's copies, in the order the kernel sent them to the device. */
typedef struct {
  uint64_t at; /* CLOCK_MONOTONIC */
  uint32_t len;
  unsigned char head[TAP_BYTES];
} tapped_t;

static tapped_t tapped[TAPPED];
static int ntapped;

/* A packet socket on the TUN device, kernel-stamped: it sees each packet as
 * the kernel hands it to the device, before the pump is even awake. */
static int open_tap(const char *ifname) {
  unsigned idx = if_nametoindex(ifname);
  int fd = idx ? socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)) : -1;
  if (fd < 0) return -1;
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)idx};
  int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) ||
      setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Move what the packet socket has into `tapped` (outgoing packets with a stamp only). */
static void drain_tap(int fd) {
  static unsigned char buf[MAX_PACKET];
  for (;;) {
    struct sockaddr_ll from;
    char control[256];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n = recvmsg(fd, &msg, MSG_TRUNC);
    if (n < 0) return;
    if (from.sll_pkttype != PACKET_OUTGOING) continue;
    uint64_t real = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
          c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
        struct scm_timestamping ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        real = (uint64_t)ts.ts[0].tv_sec * 1000000000ull + (uint64_t)ts.ts[0].tv_nsec;
      }
    }
    if (!real) continue;
    if (ntapped == TAPPED) memmove(tapped, tapped + 1, --ntapped * sizeof *tapped);
    struct timespec r, m;
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m);
    int64_t offset = ((int64_t)r.tv_sec - m.tv_sec) * 1000000000ll + (r.tv_nsec - m.tv_nsec);
    tapped_t *t = &tapped[ntapped++];
    t->at = (uint64_t)((int64_t)real - offset);
    t->len = (uint32_t)n;
    memcpy(t->head, buf, (size_t)n < TAP_BYTES ? (size_t)n : TAP_BYTES);
  }
}

/* The kernel stamp of the packet just read from the TUN device, or 0. */
static uint64_t tapped_stamp(const unsigned char *pkt, uint32_t len) {
  size_t cmp = len < TAP_BYTES ? len : TAP_BYTES;
  for (int i = 0; i < ntapped; i++) {
    if (tapped[i].len != len || memcmp(tapped[i].head, pkt, cmp)) continue;
    uint64_t at = tapped[i].at;
    ntapped -= i + 1;
    memmove(tapped, tapped + i + 1, (size_t)ntapped * sizeof *tapped);
    return at;
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
    uint32_t len, tag = 0;
    uint64_t at;
    memcpy(&len, inbuf + off, 4);
    memcpy(&at, inbuf + off + 4, 8);
    int tagged = (len & TAGGED) != 0;
    len &= ~TAGGED;
    size_t head = tagged ? 16 : 12;
    if (len > MAX_PACKET) return -1;
    if (inlen - off < head + len) break;
    if (tagged) memcpy(&tag, inbuf + off + 12, 4);
    if (npending < MAX_PENDING) {
      unsigned char *copy = malloc(len);
      if (copy) {
        memcpy(copy, inbuf + off + head, len);
        heap_push((pending_t){at, len, tagged, tag, copy});
      }
    }
    off += head + len;
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
  int tap = open_tap(argv[1]);
  if (tap < 0) perror("tunpump: packet socket (arrivals stamped when read)");
  uint32_t zero = 0;
  uint64_t t0 = now_ns();
  unsigned char hdr[12];
  memcpy(hdr, &zero, 4);
  memcpy(hdr + 4, &t0, 8);
  if (write_all(1, hdr, 12)) return 1;

  static unsigned char pkt[MAX_PACKET];
  static unsigned char reports[REPORT_BATCH * 24];
  int nreports = 0;
  for (;;) {
    uint64_t now = now_ns();
    while (npending && heap[0].at <= now) {
      pending_t p = heap_pop();
      uint64_t before = now_ns();
      if (write(tun, p.data, p.len) < 0 && errno != EIO && errno != EINVAL) perror("tunpump: write");
      uint64_t after = now_ns();
      free(p.data);
      if (p.tagged) {
        /* Reported after the burst, so that one answer's report cannot make the next one late. */
        unsigned char *r = reports + nreports++ * 24;
        uint32_t len = TAGGED | 12u;
        memcpy(r, &len, 4);
        memcpy(r + 4, &before, 8);
        memcpy(r + 12, &p.tag, 4);
        memcpy(r + 16, &after, 8);
      }
      now = now_ns();
      if (nreports == REPORT_BATCH) break;
    }
    if (nreports && write_all(1, reports, (size_t)nreports * 24)) return 0;
    nreports = 0;
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
        if (tap >= 0) drain_tap(tap);
        uint64_t kernel = tap >= 0 ? tapped_stamp(pkt, len) : 0;
        unsigned char head[20];
        uint32_t word = kernel ? len | KERNEL : len;
        memcpy(head, &word, 4);
        memcpy(head + 4, kernel ? &kernel : &at, 8);
        memcpy(head + 12, &at, 8);
        if (write_all(1, head, kernel ? 20 : 12) || write_all(1, pkt, (size_t)n)) return 0;
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      if (read_frames() < 0) return 0;
    }
  }
}
