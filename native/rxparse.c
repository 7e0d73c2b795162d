/*
 * Control-message parsing for received messages (see rxparse.h).
 *
 * The walk does not rely on CMSG_FIRSTHDR/CMSG_NXTHDR for lengths: neither
 * checks that the first message's cmsg_len fits in the buffer, and glibc's
 * CMSG_NXTHDR adds an unchecked cmsg_len to a pointer.  Instead every message
 * is read at an offset into the buffer, and the bytes its data may use are
 * min(cmsg_len, what is left of the buffer) minus the header: the kernel
 * truncates the last message to the buffer (MSG_CTRUNC) and sets cmsg_len to
 * match, so a well-formed message never loses anything to this.  Each type
 * then checks that its data is long enough before reading it, and reads it
 * with memcpy (no alignment is assumed beyond what memcpy needs).
 *
 * The length checks are the lines marked "length check"; the fuzz test
 * (test/native/rxparse-fuzz.test.ts) removes some of them to show the fuzzer
 * finds the overread, so keep those lines recognisable.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rxparse.h"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

/* Bytes from the start of a control message to its data (CMSG_DATA). */
#define CMSG_HEAD ((size_t)CMSG_LEN(0))

#define NS_PER_S 1000000000LL

/* SO_TIMESTAMPING: struct scm_timestamping, three timespecs; software
 * receive stamps are in the first, the others are for hardware stamps. */
static void parse_timestamping(const unsigned char *data, size_t len, struct rx_meta *out) {
  struct timespec ts[3];
  if (len < sizeof ts) return; /* length check: timestamping */
  memcpy(ts, data, sizeof ts);
  if (!ts[0].tv_sec && !ts[0].tv_nsec) return; /* not stamped */
  /* A time the kernel cannot have written would overflow the ns count. */
  if (ts[0].tv_sec < 0 || ts[0].tv_sec >= INT64_MAX / NS_PER_S || ts[0].tv_nsec < 0 || ts[0].tv_nsec >= NS_PER_S)
    return;
  out->has_rx_time = 1;
  out->rx_time_ns = (int64_t)ts[0].tv_sec * NS_PER_S + ts[0].tv_nsec;
}

/* IP_TTL / IPV6_HOPLIMIT: one int. */
static void parse_ttl(const unsigned char *data, size_t len, struct rx_meta *out) {
  int ttl;
  if (len < sizeof ttl) return; /* length check: ttl */
  memcpy(&ttl, data, sizeof ttl);
  out->has_ttl = 1;
  out->ttl = ttl;
}

/* IP_RECVERR / IPV6_RECVERR: struct sock_extended_err, then the offender's
 * sockaddr (SO_EE_OFFENDER), whose family is AF_UNSPEC for local errors. */
static void parse_extended_error(const unsigned char *data, size_t len, struct rx_meta *out) {
  struct sock_extended_err ee;
  if (len < sizeof ee) return; /* length check: extended error */
  memcpy(&ee, data, sizeof ee);
  out->has_ee = 1;
  out->ee_errno = ee.ee_errno;
  out->ee_origin = ee.ee_origin;
  out->ee_type = ee.ee_type;
  out->ee_code = ee.ee_code;
  out->ee_info = ee.ee_info;
  out->ee_data = ee.ee_data;
  out->has_ext_offset = ee.ee_rfc4884.len && !(ee.ee_rfc4884.flags & SO_EE_RFC4884_FLAG_INVALID);
  out->ext_offset = out->has_ext_offset ? ee.ee_rfc4884.len : 0;
  out->has_offender = 0;
  out->offender_family = 0;
  memset(out->offender_addr, 0, sizeof out->offender_addr);

  const unsigned char *sa = data + sizeof ee;
  size_t room = len - sizeof ee;
  sa_family_t family;
  if (room < sizeof family) return; /* length check: offender family */
  memcpy(&family, sa, sizeof family);
  if (family == AF_INET) {
    struct sockaddr_in sin;
    if (room < sizeof sin) return; /* length check: offender sockaddr_in */
    memcpy(&sin, sa, sizeof sin);
    memcpy(out->offender_addr, &sin.sin_addr, sizeof sin.sin_addr);
  } else if (family == AF_INET6) {
    struct sockaddr_in6 sin6;
    if (room < sizeof sin6) return; /* length check: offender sockaddr_in6 */
    memcpy(&sin6, sa, sizeof sin6);
    memcpy(out->offender_addr, &sin6.sin6_addr, sizeof sin6.sin6_addr);
  } else {
    return;
  }
  out->has_offender = 1;
  out->offender_family = family;
}

void rx_parse_control(const struct msghdr *msg, struct rx_meta *out) {
  memset(out, 0, sizeof *out);
  const unsigned char *base = (const unsigned char *)msg->msg_control;
  size_t total = msg->msg_controllen;
  if (!base) return;
  size_t off = 0; /* invariant: off <= total */
  while (total - off >= CMSG_HEAD) {
    size_t room = total - off;
    struct cmsghdr h;
    memcpy(&h, base + off, sizeof h);
    /* Shorter than its own header: malformed, and there is no telling where
     * the next one starts. */
    if (h.cmsg_len < CMSG_HEAD) return;
    size_t len = h.cmsg_len < room ? h.cmsg_len : room; /* length check: cmsg within buffer */
    const unsigned char *data = base + off + CMSG_HEAD;
    size_t dlen = len - CMSG_HEAD;
    if (h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_TIMESTAMPING)
      parse_timestamping(data, dlen, out);
    else if ((h.cmsg_level == IPPROTO_IP && h.cmsg_type == IP_TTL) ||
             (h.cmsg_level == IPPROTO_IPV6 && h.cmsg_type == IPV6_HOPLIMIT))
      parse_ttl(data, dlen, out);
    else if ((h.cmsg_level == IPPROTO_IP && h.cmsg_type == IP_RECVERR) ||
             (h.cmsg_level == IPPROTO_IPV6 && h.cmsg_type == IPV6_RECVERR))
      parse_extended_error(data, dlen, out);
    /* The next message starts at the aligned end of this one, if that is
     * still inside the buffer (h.cmsg_len < room, so the sum cannot wrap). */
    if (h.cmsg_len >= room) return;
    size_t step = CMSG_ALIGN(h.cmsg_len);
    if (step >= room) return;
    off += step;
  }
}
