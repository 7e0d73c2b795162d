/*
 * Opening and configuring probe sockets: open, close, bind, localAddress,
 * setIcmpFilter, setReceiveBuffer, ref, and routeSource (which opens a socket
 * only to ask the kernel a question).
 *
 * Receive stamps use SO_TIMESTAMPING (software RX) rather than SO_TIMESTAMPNS:
 * the kernel turns stamping on through deferred work, and until then
 * SO_TIMESTAMPNS silently reports the time the packet was *read*. With
 * SO_TIMESTAMPING an unstamped packet has no stamp, so we can say so.
 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* <linux/icmp.h> clashes with glibc headers; these two are all we need. */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
#ifndef IP_RECVERR_RFC4884
#define IP_RECVERR_RFC4884 26
#endif
#ifndef IPV6_RECVERR_RFC4884
#define IPV6_RECVERR_RFC4884 31
#endif
#ifndef SO_SELECT_ERR_QUEUE
#define SO_SELECT_ERR_QUEUE 45
#endif

/* Socket type and protocol each kind is opened with (see js_open). */
static void kind_shape(int kind, int v6, int *type, int *proto) {
  switch (kind) {
    case KIND_RAW: *type = SOCK_RAW; *proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP; break;
    case KIND_PING: *type = SOCK_DGRAM; *proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP; break;
    case KIND_UDP: *type = SOCK_DGRAM; *proto = IPPROTO_UDP; break;
    case KIND_RAW_UDP: *type = SOCK_RAW; *proto = IPPROTO_UDP; break;
    case KIND_RAW_TCP: *type = SOCK_RAW; *proto = IPPROTO_TCP; break;
    default: *type = SOCK_STREAM; *proto = IPPROTO_TCP; break;
  }
}

/* Wrap an open, configured socket in a slot with a uv_poll; closes fd on failure. */
static napi_value register_fd(napi_env env, int fd, int family, int kind, napi_value callback) {
  probe_sock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, ENOMEM, "calloc");
  }
  s->fd = fd;
  s->state = state_of(env);
  s->family = family;
  s->kind = kind;
  s->env = env;
  uv_loop_t *loop;
  if (!s->state || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init_socket(loop, &s->poll, fd) != 0) {
    close(fd);
    free(s);
    return throw_errno(env, EINVAL, "uv_poll_init_socket");
  }
  s->poll.data = s;
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "vpsline:probe-socket", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, callback, 1, &s->callback);
  napi_create_reference(env, resource, 1, &s->resource);
  napi_async_init(env, resource, name, &s->async_context);
  s->id = register_sock(env, s);
  if (s->id < 0) {
    close_sock(s);
    return throw_errno(env, ENOMEM, "register");
  }
  if (kind != KIND_TCP) {
    uv_poll_start(&s->poll, POLL_EVENTS, on_poll);
    s->polling = 1;
  }
  napi_value ret;
  napi_create_int32(env, s->id, &ret);
  return ret;
}


/* open(family: 4|6, kind: 0..5, onMessages) -> handle */
napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "open(family, kind, callback)");
  int family = family_of(env, argv[0]);
  int32_t kind = -1;
  napi_get_value_int32(env, argv[1], &kind);
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (family < 0 || kind < KIND_RAW || kind > KIND_RAW_TCP || t != napi_function)
    return throw_type(env, "open(family 4|6, kind 0..5, callback)");

  int v6 = family == AF_INET6;
  int type, proto;
  kind_shape(kind, v6, &type, &proto);
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) return throw_errno(env, errno, "socket");

  int one = 1;
  if (kind == KIND_RAW_UDP) {
    /* Send-only: a raw UDP socket would otherwise get a copy of every UDP
     * packet the host receives. A filter that accepts nothing drops them in
     * the kernel. */
    struct sock_filter reject = BPF_STMT(BPF_RET | BPF_K, 0);
    struct sock_fprog prog = {1, &reject};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
      int e = errno;
      close(fd);
      return throw_errno(env, e, "setsockopt(SO_ATTACH_FILTER)");
    }
  }
  if (kind == KIND_RAW_TCP) {
    /* A raw TCP socket gets a copy of every TCP segment the host receives;
     * only SYN-ACKs and RSTs can answer a probe, so the kernel drops the rest.
     * IPv4 raw sockets see the IP header first, IPv6 ones the TCP header. */
    struct sock_filter keep_answers[] = {
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = IPv4 header length (IPv6: 0, below) */
        BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13), /* A = TCP flags */
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x04, 2, 0), /* RST: keep */
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x12, 0, 1), /* SYN and ACK: keep */
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    if (v6) keep_answers[0] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_IMM, 0);
    struct sock_fprog prog = {sizeof keep_answers / sizeof keep_answers[0], keep_answers};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
      int e = errno;
      close(fd);
      return throw_errno(env, e, "setsockopt(SO_ATTACH_FILTER)");
    }
  }
  /* Sockets that send probes also ask for the kernel's send stamp of each
   * packet, queued on the error queue without the packet (OPT_TSONLY) under
   * the id the send names (OPT_ID with SCM_TS_OPT_ID, see send.c). TX_SCHED:
   * when the packet is handed to the device's queue, so a wait in the host's
   * own queue counts, as it does for mtr and for the traffic; the time this
   * process took to get there does not. TCP probe sockets send only a SYN,
   * which the kernel never stamps. */
  int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  if (kind != KIND_TCP)
    tsflags |= SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &tsflags, sizeof tsflags);
  setsockopt(fd, SOL_SOCKET, SO_SELECT_ERR_QUEUE, &one, sizeof one);
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
  else setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
  /* Raw sockets get every ICMP packet as a normal message; enabling RECVERR on
   * them would deliver each error a second time through the error queue. */
  if (kind != KIND_RAW && kind != KIND_RAW_UDP && kind != KIND_RAW_TCP) {
    if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
    else setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
    /* Linux >= 5.9 reports where RFC 4884 extensions (MPLS labels) start. */
    if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR_RFC4884, &one, sizeof one);
    else setsockopt(fd, IPPROTO_IP, IP_RECVERR_RFC4884, &one, sizeof one);
  }
  if (kind == KIND_TCP) {
    /* A probe socket must not linger or retry for long after we give up on it. */
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    int syn = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syn, sizeof syn);
  }

  return register_fd(env, fd, family, kind, argv[2]);
}

napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  probe_sock *s = argc ? lookup(env, argv[0]) : NULL;
  if (s) close_sock(s);
  return NULL;
}

/*
 * adopt(fd, family, kind, onMessages) -> handle: take over a socket this
 * process image inherited from its privileged self across execve (see
 * privileges.c). Its options were set when it was opened; the kernel is asked
 * whether it really is a socket of that family, type and protocol.
 */
napi_value js_adopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "adopt(fd, family, kind, callback)");
  int32_t fd = -1, kind = -1;
  napi_get_value_int32(env, argv[0], &fd);
  int family = family_of(env, argv[1]);
  napi_get_value_int32(env, argv[2], &kind);
  napi_valuetype t;
  napi_typeof(env, argv[3], &t);
  if (fd < 3 || family < 0 || kind < KIND_RAW || kind > KIND_RAW_TCP || t != napi_function)
    return throw_type(env, "adopt(fd >= 3, family 4|6, kind 0..5, callback)");
  int type, proto, got_domain = 0, got_type = 0, got_proto = 0;
  kind_shape(kind, family == AF_INET6, &type, &proto);
  socklen_t len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &got_domain, &len) != 0)
    return throw_errno(env, errno, "getsockopt(SO_DOMAIN)");
  len = sizeof(int);
  getsockopt(fd, SOL_SOCKET, SO_TYPE, &got_type, &len);
  len = sizeof(int);
  getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &got_proto, &len);
  if (got_domain != family || got_type != type || got_proto != proto) return throw_errno(env, EBADF, "adopt");
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
    return throw_errno(env, errno, "fcntl");
  return register_fd(env, fd, family, kind, argv[3]);
}

/* fd(handle) -> the socket's descriptor, to hand it over across execve. */
napi_value js_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "fd(handle)");
  GET_SOCK(s, argv[0]);
  napi_value ret;
  napi_create_int32(env, s->fd, &ret);
  return ret;
}

/* bind(handle, addr, port) */
napi_value js_bind(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "bind(handle, addr, port)");
  GET_SOCK(s, argv[0]);
  char addr[INET6_ADDRSTRLEN + 1];
  int32_t port = 0;
  if (get_string(env, argv[1], addr, sizeof addr) || napi_get_value_int32(env, argv[2], &port) != napi_ok)
    return throw_type(env, "bind: bad address or port");
  struct sockaddr_storage ss;
  socklen_t len;
  if (make_sockaddr(s->family, addr, port, &ss, &len)) return throw_type(env, "bind: bad address");
  if (bind(s->fd, (struct sockaddr *)&ss, len) != 0) return throw_errno(env, errno, "bind");
  return NULL;
}

/* bindDevice(handle, name): send and receive through one interface only (SO_BINDTODEVICE, mtr's -I). */
napi_value js_bind_device(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "bindDevice(handle, name)");
  GET_SOCK(s, argv[0]);
  char name[IFNAMSIZ];
  if (get_string(env, argv[1], name, sizeof name) || !name[0]) return throw_type(env, "bindDevice: bad interface name");
  if (setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name)) != 0)
    return throw_errno(env, errno, "setsockopt(SO_BINDTODEVICE)");
  return NULL;
}

/* localAddress(handle) -> { addr, port }; for ping sockets port is the ICMP id. */
napi_value js_local_address(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "localAddress(handle)");
  GET_SOCK(s, argv[0]);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(s->fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, errno, "getsockname");
  napi_value obj;
  napi_create_object(env, &obj);
  sockaddr_to_js(env, obj, "addr", "port", (struct sockaddr *)&ss);
  return obj;
}

/* setIcmpFilter(handle, allowedTypes[]): everything else is blocked in the kernel. */
napi_value js_set_icmp_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "setIcmpFilter(handle, types)");
  GET_SOCK(s, argv[0]);
  if (s->kind != KIND_RAW) return throw_type(env, "setIcmpFilter: only raw sockets have ICMP filters");
  uint32_t n;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok)
    return throw_type(env, "setIcmpFilter: types must be an array");
  if (s->family == AF_INET) {
    uint32_t blocked = 0xffffffffu; /* Linux: a set bit blocks that type */
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      int32_t type;
      napi_get_element(env, argv[1], i, &e);
      if (napi_get_value_int32(env, e, &type) == napi_ok && type >= 0 && type < 32) blocked &= ~(1u << type);
    }
    if (setsockopt(s->fd, SOL_RAW, ICMP_FILTER, &blocked, sizeof blocked))
      return throw_errno(env, errno, "setsockopt(ICMP_FILTER)");
  } else {
    struct icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      int32_t type;
      napi_get_element(env, argv[1], i, &e);
      if (napi_get_value_int32(env, e, &type) == napi_ok && type >= 0 && type < 256) ICMP6_FILTER_SETPASS(type, &f);
    }
    if (setsockopt(s->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f))
      return throw_errno(env, errno, "setsockopt(ICMP6_FILTER)");
  }
  return NULL;
}

/* setReceiveBuffer(handle, bytes): raw sockets see every ICMP packet of the host. */
napi_value js_set_receive_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "setReceiveBuffer(handle, bytes)");
  GET_SOCK(s, argv[0]);
  int32_t bytes;
  if (napi_get_value_int32(env, argv[1], &bytes) != napi_ok || bytes <= 0) return throw_type(env, "bytes > 0");
  if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes))
    return throw_errno(env, errno, "setsockopt(SO_RCVBUF)");
  return NULL;
}

/* ref(handle, keepAlive): whether this socket keeps the event loop running. */
napi_value js_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "ref(handle, keepAlive)");
  GET_SOCK(s, argv[0]);
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  if (on) uv_ref((uv_handle_t *)&s->poll);
  else uv_unref((uv_handle_t *)&s->poll);
  return NULL;
}

/* routeSource(family, addr) -> the source address the kernel routes to addr
 * from (connect() on a UDP socket sends nothing). Constant-flow probes need it
 * for their UDP checksum. */
napi_value js_route_source(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "routeSource(family, addr)");
  int family = family_of(env, argv[0]);
  char addr[INET6_ADDRSTRLEN + 1];
  struct sockaddr_storage ss, local;
  socklen_t len, llen = sizeof local;
  if (family < 0 || get_string(env, argv[1], addr, sizeof addr) || make_sockaddr(family, addr, 9, &ss, &len))
    return throw_type(env, "routeSource: bad family or address");
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (connect(fd, (struct sockaddr *)&ss, len) != 0 || getsockname(fd, (struct sockaddr *)&local, &llen) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "connect");
  }
  close(fd);
  napi_value obj;
  napi_create_object(env, &obj);
  sockaddr_to_js(env, obj, "addr", NULL, (struct sockaddr *)&local);
  napi_value result;
  napi_get_named_property(env, obj, "addr", &result);
  return result;
}
