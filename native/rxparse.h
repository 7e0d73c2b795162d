/*
 * Control messages of a received message (what recvmsg left in msg_control),
 * read into a plain struct.  Pure C: no N-API, no libuv, no syscalls, so it can
 * be fuzzed on its own (native/fuzz/rxparse_fuzz.c).
 */
#ifndef VPSLINE_RXPARSE_H
#define VPSLINE_RXPARSE_H

#include <stdint.h>
#include <sys/socket.h>

struct rx_meta {
  /* SO_TIMESTAMPING software receive stamp; absent when the kernel had not
   * stamped the packet (all zero) or the message does not hold a valid time. */
  int has_rx_time;
  int64_t rx_time_ns; /* CLOCK_REALTIME, ns */

  /* IP_TTL (IPv4) or IPV6_HOPLIMIT (IPv6) of the received packet. */
  int has_ttl;
  int ttl;

  /* IP_RECVERR / IPV6_RECVERR: struct sock_extended_err, field by field. */
  int has_ee;
  uint32_t ee_errno;
  uint8_t ee_origin; /* SO_EE_ORIGIN_* */
  uint8_t ee_type;
  uint8_t ee_code;
  uint32_t ee_info;
  /* Send stamps (ee_origin SO_EE_ORIGIN_TIMESTAMPING): the packet's id. */
  uint32_t ee_data;
  /* RFC 4884: where extensions start in the quoted payload, when the kernel
   * found a valid one (IP_RECVERR_RFC4884). */
  int has_ext_offset;
  uint32_t ext_offset;

  /* SO_EE_OFFENDER: the sockaddr after the extended error, present only when
   * its family is AF_INET or AF_INET6 and the whole sockaddr_in/sockaddr_in6
   * lies inside that control message. */
  int has_offender;
  int offender_family;             /* AF_INET or AF_INET6 */
  unsigned char offender_addr[16]; /* network order: 4 bytes (IPv4) or 16 (IPv6) */
};

/*
 * Fill *out from msg->msg_control / msg->msg_controllen.  Every read stays
 * inside both the control message's own cmsg_len and the control buffer; a
 * message whose data is too short for its type is skipped.  When a type occurs
 * more than once, the last one wins (an extended error brings its own offender
 * or none).
 */
void rx_parse_control(const struct msghdr *msg, struct rx_meta *out);

#endif
