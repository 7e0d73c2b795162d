/*
 * Sending probes: send (one sendmsg with the probe's TTL and TOS as control
 * messages, so one socket serves probes of every TTL) and connect
 * (TCP probes: one socket per probe, the TTL set on the socket).  Both return
 * the send time read right before the syscall, on the timestamp scale.
 *
 * send also names the packet for the kernel's own send stamp (SCM_TS_OPT_ID,
 * Linux >= 6.13): the stamp comes back on the socket's error queue under that
 * id (receive.c), free of whatever delayed this thread between reading the
 * clock and the packet leaving.  On an older kernel the id is refused with
 * EINVAL; send then stops naming packets and says so (stamped: false).
 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>

/* asm-generic/socket.h of Linux 6.13; older headers lack it. */
#ifndef SCM_TS_OPT_ID
#define SCM_TS_OPT_ID 81
#endif

/* Cleared for good when the kernel refuses SCM_TS_OPT_ID. */
static int kernel_names_stamps = 1;

/* Errors a pending sk_err can make sendmsg return without sending anything. */
static int is_pending_error(int e) {
  return e == EHOSTUNREACH || e == ENETUNREACH || e == ECONNREFUSED || e == EHOSTDOWN ||
         e == EPROTO || e == ENOPROTOOPT || e == EACCES;
}

/* send(handle, packet, addr, port, ttl, tos, stampId) -> { txNs, stamped } */
napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_type(env, "send(handle, packet, addr, port, ttl, tos, stampId)");
  GET_SOCK(s, argv[0]);
  void *data;
  size_t len;
  char addr[INET6_ADDRSTRLEN + 1];
  int32_t port, ttl, tos;
  uint32_t stamp_id;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      get_string(env, argv[2], addr, sizeof addr) || napi_get_value_int32(env, argv[3], &port) != napi_ok ||
      napi_get_value_int32(env, argv[4], &ttl) != napi_ok || napi_get_value_int32(env, argv[5], &tos) != napi_ok ||
      napi_get_value_uint32(env, argv[6], &stamp_id) != napi_ok)
    return throw_type(env, "send: bad arguments");
  if (ttl < 1 || ttl > 255 || tos < 0 || tos > 255 || port < 0 || port > 65535)
    return throw_type(env, "send: ttl must be 1..255, tos 0..255, port 0..65535");
  struct sockaddr_storage ss;
  socklen_t slen;
  int raw = s->kind == KIND_RAW || s->kind == KIND_RAW_UDP || s->kind == KIND_RAW_TCP;
  if (make_sockaddr(s->family, addr, raw ? 0 : port, &ss, &slen))
    return throw_type(env, "send: bad address");

  /* Up to three control messages: TTL, TOS (when set), the stamp's id. */
  union {
    unsigned char buf[CMSG_SPACE(sizeof(int)) * 2 + CMSG_SPACE(sizeof(uint32_t))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {data, len};
  struct msghdr msg;
  int v6 = s->family == AF_INET6;
  int stamped = 0, name_it = kernel_names_stamps;
  int64_t tx = 0;
  ssize_t r = -1;
  for (int attempt = 0; attempt < 4; attempt++) {
    memset(&control, 0, sizeof control);
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &ss;
    msg.msg_namelen = slen;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    size_t used = 0;
    c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    c->cmsg_type = v6 ? IPV6_HOPLIMIT : IP_TTL;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &ttl, sizeof ttl);
    used += CMSG_SPACE(sizeof(int));
    if (tos) {
      c = CMSG_NXTHDR(&msg, c);
      c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
      c->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &tos, sizeof tos);
      used += CMSG_SPACE(sizeof(int));
    }
    stamped = name_it;
    if (stamped) {
      c = CMSG_NXTHDR(&msg, c);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_TS_OPT_ID;
      c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
      memcpy(CMSG_DATA(c), &stamp_id, sizeof stamp_id);
      used += CMSG_SPACE(sizeof(uint32_t));
    }
    msg.msg_controllen = used;
    tx = realtime_ns();
    r = sendmsg(s->fd, &msg, MSG_DONTWAIT);
    if (r >= 0) {
      /* Refused with the id, sent without it: a kernel before 6.13, which
       * does not know SCM_TS_OPT_ID. */
      if (!stamped && kernel_names_stamps) kernel_names_stamps = 0;
      break;
    }
    if (errno == EINVAL && stamped) {
      name_it = 0;
      continue;
    }
    /* A queued ICMP error (RECVERR) fails the next sendmsg once without
     * sending; the error itself stays in the error queue.  Retry. */
    if (!is_pending_error(errno) || raw) break;
  }
  if (r < 0) return throw_errno(env, errno, "sendmsg");
  napi_value ret;
  napi_create_object(env, &ret);
  set_double(env, ret, "txNs", rel_ns(tx));
  set_bool(env, ret, "stamped", stamped);
  return ret;
}

/* connect(handle, addr, port, ttl, tos) -> { txNs, errno } : one TCP probe. */
napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_type(env, "connect(handle, addr, port, ttl, tos)");
  GET_SOCK(s, argv[0]);
  if (s->kind != KIND_TCP) return throw_type(env, "connect: not a TCP socket");
  char addr[INET6_ADDRSTRLEN + 1];
  int32_t port, ttl, tos;
  if (get_string(env, argv[1], addr, sizeof addr) || napi_get_value_int32(env, argv[2], &port) != napi_ok ||
      napi_get_value_int32(env, argv[3], &ttl) != napi_ok || napi_get_value_int32(env, argv[4], &tos) != napi_ok)
    return throw_type(env, "connect: bad arguments");
  if (ttl < 1 || ttl > 255 || tos < 0 || tos > 255 || port < 1 || port > 65535)
    return throw_type(env, "connect: ttl must be 1..255, tos 0..255, port 1..65535");
  struct sockaddr_storage ss;
  socklen_t slen;
  if (make_sockaddr(s->family, addr, port, &ss, &slen)) return throw_type(env, "connect: bad address");
  /* One socket per probe, so a socket-wide TTL cannot race with anything. */
  int v6 = s->family == AF_INET6;
  if (setsockopt(s->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &ttl, sizeof ttl))
    return throw_errno(env, errno, "setsockopt(ttl)");
  if (tos && setsockopt(s->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof tos))
    return throw_errno(env, errno, "setsockopt(tos)");
  int64_t tx = realtime_ns();
  int r = connect(s->fd, (struct sockaddr *)&ss, slen);
  int err = r == 0 ? 0 : errno;
  if (err == EINPROGRESS || err == 0 || err == ECONNREFUSED) {
    uv_poll_start(&s->poll, POLL_EVENTS | UV_WRITABLE | UV_DISCONNECT, on_poll);
    s->polling = 1;
  } else if (err != EINPROGRESS) {
    return throw_errno(env, err, "connect");
  }
  napi_value obj;
  napi_create_object(env, &obj);
  set_double(env, obj, "txNs", rel_ns(tx));
  set_int(env, obj, "errno", err == EINPROGRESS ? 0 : err);
  return obj;
}
