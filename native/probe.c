/*
 * vpsline probe socket: the only native code in vpsline.
 *
 * Sockets of four kinds (raw ICMP, ICMP "ping" datagram, UDP, TCP) for IPv4
 * and IPv6, per-packet TTL/TOS through sendmsg control messages, kernel
 * receive timestamps (SO_TIMESTAMPING), the error queue (MSG_ERRQUEUE), and a
 * uv_poll on the loop of the environment that opened the socket, so it works
 * inside worker threads.  Everything above the syscalls lives in TypeScript.
 *
 * Times handed to JavaScript are CLOCK_REALTIME nanoseconds minus a base taken
 * when the addon loads, as doubles: exact to the nanosecond for 104 days, and
 * on the same clock as kernel receive stamps, so RTT = kernel rx - native tx.
 *
 * Receive stamps use SO_TIMESTAMPING (software RX) rather than SO_TIMESTAMPNS:
 * the kernel turns stamping on through deferred work, and until then
 * SO_TIMESTAMPNS silently reports the time the packet was *read*. With
 * SO_TIMESTAMPING an unstamped packet has no stamp, so we can say so.
 */
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/capability.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
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

/* KIND_RAW_UDP sends UDP packets whose header we write (constant-flow probes);
 * it never receives: answers come as ICMP on the raw ICMP socket.
 * KIND_RAW_TCP sends SYNs we write and receives the destination's SYN-ACK/RST. */
enum kind { KIND_RAW = 0, KIND_PING = 1, KIND_UDP = 2, KIND_TCP = 3, KIND_RAW_UDP = 4, KIND_RAW_TCP = 5 };

/* Messages read per wake-up and per queue, so one busy socket cannot starve the loop. */
#define MAX_BATCH 512
#define RX_DATA 4096
#define RX_CONTROL 512

struct addon_state;

typedef struct probe_sock {
  uv_poll_t poll;
  struct addon_state *state;
  int fd;
  int family; /* AF_INET or AF_INET6 */
  int kind;
  int id;
  int polling;
  int tcp_done; /* TCP: final connect result already reported */
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_async_context async_context;
} probe_sock;

typedef struct addon_state {
  probe_sock **slots;
  int nslots;
  /* uv_close() calls whose callback has not run yet. Their callback is code
   * in this library: Node must not unload it (worker exit) before they ran,
   * so environment teardown waits on an async cleanup hook until they have. */
  int pending_closes;
  int tearing_down;
  napi_async_cleanup_hook_handle cleanup_handle;
} addon_state;

static int64_t clock_base_ns;

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double rel_ns(int64_t abs_ns) { return (double)(abs_ns - clock_base_ns); }

/* ---------- small N-API helpers ---------- */

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, "EVPSLINE_NAPI", "N-API call failed: " #call); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error, errnum, syscall_name;
  const char *name = "EUNKNOWN";
  switch (err) {
    case EPERM: name = "EPERM"; break;
    case EACCES: name = "EACCES"; break;
    case EAFNOSUPPORT: name = "EAFNOSUPPORT"; break;
    case EPROTONOSUPPORT: name = "EPROTONOSUPPORT"; break;
    case ENETUNREACH: name = "ENETUNREACH"; break;
    case EHOSTUNREACH: name = "EHOSTUNREACH"; break;
    case ECONNREFUSED: name = "ECONNREFUSED"; break;
    case EADDRINUSE: name = "EADDRINUSE"; break;
    case EADDRNOTAVAIL: name = "EADDRNOTAVAIL"; break;
    case EINVAL: name = "EINVAL"; break;
    case EMSGSIZE: name = "EMSGSIZE"; break;
    case ENOBUFS: name = "ENOBUFS"; break;
    case EMFILE: name = "EMFILE"; break;
    case ENFILE: name = "ENFILE"; break;
    case EBADF: name = "EBADF"; break;
    case EHOSTDOWN: name = "EHOSTDOWN"; break;
    case ENETDOWN: name = "ENETDOWN"; break;
    default: break;
  }
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &syscall_name);
  napi_set_named_property(env, error, "syscall", syscall_name);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "EVPSLINE_ARG", msg);
  return NULL;
}

static void set_int(napi_env env, napi_value obj, const char *key, int64_t v) {
  napi_value val;
  napi_create_int64(env, v, &val);
  napi_set_named_property(env, obj, key, val);
}

static void set_double(napi_env env, napi_value obj, const char *key, double v) {
  napi_value val;
  napi_create_double(env, v, &val);
  napi_set_named_property(env, obj, key, val);
}

static void set_bool(napi_env env, napi_value obj, const char *key, int v) {
  napi_value val;
  napi_get_boolean(env, v, &val);
  napi_set_named_property(env, obj, key, val);
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *s) {
  napi_value val;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &val);
  napi_set_named_property(env, obj, key, val);
}

static addon_state *state_of(napi_env env) {
  addon_state *st = NULL;
  napi_get_instance_data(env, (void **)&st);
  return st;
}

static probe_sock *lookup(napi_env env, napi_value idv) {
  int32_t id;
  if (napi_get_value_int32(env, idv, &id) != napi_ok) return NULL;
  addon_state *st = state_of(env);
  if (!st || id < 0 || id >= st->nslots) return NULL;
  return st->slots[id];
}

#define GET_SOCK(var, arg)                                              \
  probe_sock *var = lookup(env, arg);                                   \
  if (!var) return throw_type(env, "socket handle is not open");

/* Parse "a.b.c.d" or an IPv6 literal into a sockaddr of the socket's family. */
static int make_sockaddr(int family, const char *addr, int port, struct sockaddr_storage *ss,
                         socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) return -1;
    *len = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1) return -1;
    *len = sizeof *sin6;
  }
  return 0;
}

static void sockaddr_to_js(napi_env env, napi_value obj, const char *addr_key, const char *port_key,
                           const struct sockaddr *sa) {
  char buf[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    port = ntohs(sin->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
    port = ntohs(sin6->sin6_port);
  } else {
    return;
  }
  set_str(env, obj, addr_key, buf);
  if (port_key) set_int(env, obj, port_key, port);
}

static int get_string(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) return -1;
  return len < cap - 1 ? 0 : -1;
}

/* ---------- receiving ---------- */

/*
 * Read one message (normal or error queue) into a JS object.  Returns 1 when a
 * message was produced, 0 when the queue is empty, -1 on a transient error that
 * should be skipped (a pending socket error reported once by recvmsg).
 */
static int read_one(napi_env env, probe_sock *s, int errqueue, napi_value *out) {
  unsigned char data[RX_DATA];
  union {
    unsigned char buf[RX_CONTROL];
    struct cmsghdr align;
  } control;
  struct sockaddr_storage from;
  struct iovec iov = {data, sizeof data};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  memset(&from, 0, sizeof from);

  ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT | (errqueue ? MSG_ERRQUEUE : 0));
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (errno == EINTR) return -1;
    /* A queued ICMP error also sets sk_err; recvmsg reports it once. The
     * details are still waiting in the error queue. */
    if (!errqueue) return -1;
    return 0;
  }

  napi_value obj;
  napi_create_object(env, &obj);
  void *copy;
  napi_value buffer;
  napi_create_buffer_copy(env, (size_t)n, data, &copy, &buffer);
  napi_set_named_property(env, obj, "data", buffer);
  set_bool(env, obj, "errqueue", errqueue);
  set_bool(env, obj, "truncated", (msg.msg_flags & MSG_TRUNC) != 0);
  if (msg.msg_namelen > 0) sockaddr_to_js(env, obj, "addr", "port", (struct sockaddr *)&from);

  int have_ts = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
      struct timespec ts[3];
      memcpy(ts, CMSG_DATA(c), sizeof ts);
      if (ts[0].tv_sec || ts[0].tv_nsec) {
        set_double(env, obj, "rxNs", rel_ns((int64_t)ts[0].tv_sec * 1000000000LL + ts[0].tv_nsec));
        have_ts = 1;
      }
    } else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
               (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
      int ttl;
      memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
      set_int(env, obj, "ttl", ttl);
    } else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
               (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      struct sock_extended_err ee;
      memcpy(&ee, CMSG_DATA(c), sizeof ee);
      napi_value eo;
      napi_create_object(env, &eo);
      set_int(env, eo, "errno", ee.ee_errno);
      set_int(env, eo, "origin", ee.ee_origin);
      set_int(env, eo, "type", ee.ee_type);
      set_int(env, eo, "code", ee.ee_code);
      set_int(env, eo, "info", ee.ee_info);
      if (ee.ee_rfc4884.len && !(ee.ee_rfc4884.flags & SO_EE_RFC4884_FLAG_INVALID))
        set_int(env, eo, "extensionOffset", ee.ee_rfc4884.len);
      const struct sockaddr *off =
          (const struct sockaddr *)((const unsigned char *)CMSG_DATA(c) + sizeof ee);
      if (c->cmsg_len >= CMSG_LEN(sizeof ee + sizeof(sa_family_t)) &&
          (off->sa_family == AF_INET || off->sa_family == AF_INET6))
        sockaddr_to_js(env, eo, "offender", NULL, off);
      napi_set_named_property(env, obj, "ee", eo);
    }
  }
  if (!have_ts) set_double(env, obj, "rxNs", rel_ns(realtime_ns()));
  set_bool(env, obj, "kernelTime", have_ts);
  *out = obj;
  return 1;
}

/* Drain both queues (error queue first: it is what raises POLLERR). */
static uint32_t drain_into(napi_env env, probe_sock *s, napi_value arr, uint32_t idx) {
  /* A TCP probe socket carries no data we want: its normal queue only says EOF. */
  int last = s->kind == KIND_TCP ? 1 : 0;
  for (int q = 1; q >= last; q--) {
    int skipped = 0;
    for (int i = 0; i < MAX_BATCH;) {
      napi_value m;
      int r = read_one(env, s, q, &m);
      if (r == 0) break;
      if (r < 0) {
        if (++skipped > 8) break;
        continue;
      }
      napi_set_element(env, arr, idx++, m);
      i++;
    }
  }
  return idx;
}

/* TCP probes: report how connect() ended (open, refused, other error). */
static uint32_t tcp_result(napi_env env, probe_sock *s, napi_value arr, uint32_t idx) {
  if (s->tcp_done) return idx;
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  napi_value obj;
  napi_create_object(env, &obj);
  if (err == 0) {
    struct tcp_info info;
    socklen_t ilen = sizeof info;
    memset(&info, 0, sizeof info);
    if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) != 0) return idx;
    if (info.tcpi_state == TCP_SYN_SENT) return idx; /* still connecting: a spurious wake-up */
    if (info.tcpi_state == TCP_ESTABLISHED) {
      set_str(env, obj, "tcp", "open");
      set_int(env, obj, "tcpRttUs", info.tcpi_rtt);
    } else {
      /* Closed with the error already taken (by connect itself, say). */
      set_str(env, obj, "tcp", "error");
      set_int(env, obj, "errno", 0);
    }
  } else {
    set_str(env, obj, "tcp", err == ECONNREFUSED ? "refused" : "error");
    set_int(env, obj, "errno", err);
  }
  set_double(env, obj, "rxNs", rel_ns(realtime_ns()));
  set_bool(env, obj, "kernelTime", 0);
  s->tcp_done = 1;
  napi_set_element(env, arr, idx++, obj);
  return idx;
}

static void deliver(probe_sock *s, napi_value arr) {
  napi_env env = s->env;
  napi_value cb, recv, result;
  if (napi_get_reference_value(env, s->callback, &cb) != napi_ok || !cb) return;
  if (napi_get_reference_value(env, s->resource, &recv) != napi_ok || !recv) return;
  napi_status st = napi_make_callback(env, s->async_context, recv, cb, 1, &arr, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
}

static const int POLL_EVENTS = UV_READABLE | UV_PRIORITIZED;

static void on_poll(uv_poll_t *handle, int status, int events) {
  probe_sock *s = (probe_sock *)handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value arr;
  napi_create_array(env, &arr);
  uint32_t n = drain_into(env, s, arr, 0);
  if (s->kind == KIND_TCP && (status < 0 || (events & (UV_WRITABLE | UV_DISCONNECT)))) {
    n = tcp_result(env, s, arr, n);
    if (s->tcp_done && s->polling) {
      uv_poll_stop(&s->poll);
      s->polling = 0;
    }
  } else if (status < 0 && s->polling) {
    /* libuv stops a handle on POLLERR without POLLPRI (UV_EBADF): restart it. */
    uv_poll_start(&s->poll, POLL_EVENTS, on_poll);
  }
  if (n > 0) deliver(s, arr);
  napi_close_handle_scope(env, scope);
}

/* ---------- lifecycle ---------- */

static void finish_teardown(addon_state *st) {
  if (st->tearing_down && st->pending_closes == 0 && st->cleanup_handle) {
    napi_async_cleanup_hook_handle h = st->cleanup_handle;
    st->cleanup_handle = NULL;
    napi_remove_async_cleanup_hook(h);
  }
}

static void free_sock(uv_handle_t *h) {
  probe_sock *s = (probe_sock *)h->data;
  addon_state *st = s->state;
  free(s);
  st->pending_closes--;
  finish_teardown(st);
}

static void close_sock(probe_sock *s) {
  addon_state *st = s->state;
  if (s->id >= 0 && s->id < st->nslots && st->slots[s->id] == s) st->slots[s->id] = NULL;
  if (s->callback) napi_delete_reference(s->env, s->callback);
  if (s->resource) napi_delete_reference(s->env, s->resource);
  if (s->async_context) napi_async_destroy(s->env, s->async_context);
  s->callback = s->resource = NULL;
  s->async_context = NULL;
  if (s->polling) uv_poll_stop(&s->poll);
  s->polling = 0;
  close(s->fd);
  s->fd = -1;
  st->pending_closes++;
  uv_close((uv_handle_t *)&s->poll, free_sock);
}

/* The environment is going away (process or worker exit): close what is still
 * open, and let teardown go on once every close callback has run. */
static void cleanup_env(napi_async_cleanup_hook_handle handle, void *arg) {
  addon_state *st = (addon_state *)arg;
  (void)handle;
  st->tearing_down = 1;
  for (int i = 0; i < st->nslots; i++)
    if (st->slots[i]) close_sock(st->slots[i]);
  finish_teardown(st);
}

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  addon_state *st = (addon_state *)data;
  free(st->slots);
  free(st);
}

static int register_sock(napi_env env, probe_sock *s) {
  addon_state *st = state_of(env);
  for (int i = 0; i < st->nslots; i++) {
    if (!st->slots[i]) {
      st->slots[i] = s;
      return i;
    }
  }
  int n = st->nslots ? st->nslots * 2 : 16;
  probe_sock **grown = realloc(st->slots, sizeof *grown * (size_t)n);
  if (!grown) return -1;
  memset(grown + st->nslots, 0, sizeof *grown * (size_t)(n - st->nslots));
  st->slots = grown;
  int id = st->nslots;
  st->nslots = n;
  st->slots[id] = s;
  return id;
}

static int family_of(napi_env env, napi_value v) {
  int32_t f = 0;
  napi_get_value_int32(env, v, &f);
  return f == 4 ? AF_INET : f == 6 ? AF_INET6 : -1;
}

/* open(family: 4|6, kind: 0..3, onMessages) -> handle */
static napi_value js_open(napi_env env, napi_callback_info info) {
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
  switch (kind) {
    case KIND_RAW: type = SOCK_RAW; proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP; break;
    case KIND_PING: type = SOCK_DGRAM; proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP; break;
    case KIND_UDP: type = SOCK_DGRAM; proto = IPPROTO_UDP; break;
    case KIND_RAW_UDP: type = SOCK_RAW; proto = IPPROTO_UDP; break;
    case KIND_RAW_TCP: type = SOCK_RAW; proto = IPPROTO_TCP; break;
    default: type = SOCK_STREAM; proto = IPPROTO_TCP; break;
  }
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
  int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
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
  napi_create_reference(env, argv[2], 1, &s->callback);
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

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  probe_sock *s = argc ? lookup(env, argv[0]) : NULL;
  if (s) close_sock(s);
  return NULL;
}

/* bind(handle, addr, port) */
static napi_value js_bind(napi_env env, napi_callback_info info) {
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

/* localAddress(handle) -> { addr, port }; for ping sockets port is the ICMP id. */
static napi_value js_local_address(napi_env env, napi_callback_info info) {
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

/* Errors a pending sk_err can make sendmsg return without sending anything. */
static int is_pending_error(int e) {
  return e == EHOSTUNREACH || e == ENETUNREACH || e == ECONNREFUSED || e == EHOSTDOWN ||
         e == EPROTO || e == ENOPROTOOPT || e == EACCES;
}

/* send(handle, packet, addr, port, ttl, tos) -> native send time (ns) */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_type(env, "send(handle, packet, addr, port, ttl, tos)");
  GET_SOCK(s, argv[0]);
  void *data;
  size_t len;
  char addr[INET6_ADDRSTRLEN + 1];
  int32_t port, ttl, tos;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      get_string(env, argv[2], addr, sizeof addr) || napi_get_value_int32(env, argv[3], &port) != napi_ok ||
      napi_get_value_int32(env, argv[4], &ttl) != napi_ok || napi_get_value_int32(env, argv[5], &tos) != napi_ok)
    return throw_type(env, "send: bad arguments");
  if (ttl < 1 || ttl > 255 || tos < 0 || tos > 255 || port < 0 || port > 65535)
    return throw_type(env, "send: ttl must be 1..255, tos 0..255, port 0..65535");
  struct sockaddr_storage ss;
  socklen_t slen;
  int raw = s->kind == KIND_RAW || s->kind == KIND_RAW_UDP || s->kind == KIND_RAW_TCP;
  if (make_sockaddr(s->family, addr, raw ? 0 : port, &ss, &slen))
    return throw_type(env, "send: bad address");

  union {
    unsigned char buf[CMSG_SPACE(sizeof(int)) * 2];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {data, len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &ss;
  msg.msg_namelen = slen;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = tos ? sizeof control.buf : CMSG_SPACE(sizeof(int));
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  int v6 = s->family == AF_INET6;
  c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
  c->cmsg_type = v6 ? IPV6_HOPLIMIT : IP_TTL;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &ttl, sizeof ttl);
  if (tos) {
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    c->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &tos, sizeof tos);
  }

  int64_t tx = 0;
  ssize_t r = -1;
  /* A queued ICMP error (RECVERR) fails the next sendmsg once without
   * sending; the error itself stays in the error queue.  Retry. */
  for (int attempt = 0; attempt < 3; attempt++) {
    tx = realtime_ns();
    r = sendmsg(s->fd, &msg, MSG_DONTWAIT);
    if (r >= 0 || !is_pending_error(errno) || raw) break;
  }
  if (r < 0) return throw_errno(env, errno, "sendmsg");
  napi_value ret;
  napi_create_double(env, rel_ns(tx), &ret);
  return ret;
}

/* connect(handle, addr, port, ttl, tos) -> { txNs, errno } : one TCP probe. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
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

/* drain(handle) -> messages waiting now; used before declaring a probe lost. */
static napi_value js_drain(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "drain(handle)");
  GET_SOCK(s, argv[0]);
  napi_value arr;
  napi_create_array(env, &arr);
  drain_into(env, s, arr, 0);
  return arr;
}

/* setIcmpFilter(handle, allowedTypes[]): everything else is blocked in the kernel. */
static napi_value js_set_icmp_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "setIcmpFilter(handle, types)");
  GET_SOCK(s, argv[0]);
  if (s->kind != KIND_RAW) return throw_type(env, "setIcmpFilter: only raw sockets have ICMP filters");
  uint32_t n;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok) return throw_type(env, "setIcmpFilter: types must be an array");
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
static napi_value js_set_receive_buffer(napi_env env, napi_callback_info info) {
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
static napi_value js_ref(napi_env env, napi_callback_info info) {
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
static napi_value js_route_source(napi_env env, napi_callback_info info) {
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

/* now() -> CLOCK_REALTIME ns on the timestamp scale. */
static napi_value js_now(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value ret;
  napi_create_double(env, rel_ns(realtime_ns()), &ret);
  return ret;
}

/* clockOffset() -> CLOCK_REALTIME - CLOCK_MONOTONIC in ns; it moves when the wall clock is stepped. */
static napi_value js_clock_offset(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec mono;
  int64_t real = realtime_ns();
  clock_gettime(CLOCK_MONOTONIC, &mono);
  napi_value ret;
  napi_create_double(env, (double)(real - ((int64_t)mono.tv_sec * 1000000000LL + mono.tv_nsec)), &ret);
  return ret;
}

/* dropCapabilities(): clear every capability of every thread, ambient ones
 * too. Capabilities belong to threads, and capset() changes only the calling
 * one, so the threads Node started before us (libuv's pool, V8's workers)
 * would keep theirs: each is sent a signal whose handler drops its own
 * (the way libcap's psx does it), and we wait until all have answered.
 * A thread that blocks the signal cannot be reached (Node's SIGUSR1 watcher
 * blocks every signal and only waits on a semaphore): it is counted, not
 * waited for. Returns how many threads keep their capabilities. */
static volatile int caps_acks;

static int drop_own_capabilities(void) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  return (int)syscall(SYS_capset, &hdr, data);
}

static void drop_capabilities_signal(int sig) {
  (void)sig;
  int saved = errno;
  if (drop_own_capabilities() == 0) __atomic_add_fetch(&caps_acks, 1, __ATOMIC_SEQ_CST);
  errno = saved;
}

/* Whether thread `tid` blocks signal `sig` (from SigBlk in its status file). */
static int thread_blocks(pid_t tid, int sig) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  unsigned long long mask = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "SigBlk: %llx", &mask) == 1) break;
  fclose(f);
  return (int)((mask >> (sig - 1)) & 1ull);
}

static napi_value js_drop_capabilities(napi_env env, napi_callback_info info) {
  (void)info;
  if (drop_own_capabilities() != 0) return throw_errno(env, errno, "capset");
  int sig = SIGRTMIN + 7;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = drop_capabilities_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, &old) != 0) return throw_errno(env, errno, "sigaction");
  __atomic_store_n(&caps_acks, 0, __ATOMIC_SEQ_CST);
  pid_t pid = getpid();
  pid_t self = (pid_t)syscall(SYS_gettid);
  int sent = 0, unreachable = 0;
  DIR *tasks = opendir("/proc/self/task");
  if (tasks) {
    struct dirent *d;
    while ((d = readdir(tasks)) != NULL) {
      pid_t tid = (pid_t)atoi(d->d_name);
      if (tid <= 0 || tid == self) continue;
      if (thread_blocks(tid, sig)) unreachable++;
      else if (syscall(SYS_tgkill, pid, tid, sig) == 0) sent++;
    }
    closedir(tasks);
  }
  /* Every thread answers within microseconds unless it is stopped; give up after a second. */
  for (int waited = 0; __atomic_load_n(&caps_acks, __ATOMIC_SEQ_CST) < sent && waited < 1000; waited++) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  int acks = __atomic_load_n(&caps_acks, __ATOMIC_SEQ_CST);
  /* A late signal still finds the handler: leave it installed if some thread has not answered. */
  if (acks >= sent) sigaction(sig, &old, NULL);
  napi_value ret;
  napi_create_int32(env, unreachable + (sent > acks ? sent - acks : 0), &ret);
  return ret;
}

static napi_value init(napi_env env, napi_value exports) {
  if (!clock_base_ns) clock_base_ns = realtime_ns();
  addon_state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  napi_set_instance_data(env, st, free_state, NULL);
  napi_add_async_cleanup_hook(env, cleanup_env, st, &st->cleanup_handle);
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_default, NULL},
      {"localAddress", NULL, js_local_address, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, js_drain, NULL, NULL, NULL, napi_default, NULL},
      {"setIcmpFilter", NULL, js_set_icmp_filter, NULL, NULL, NULL, napi_default, NULL},
      {"setReceiveBuffer", NULL, js_set_receive_buffer, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, js_ref, NULL, NULL, NULL, napi_default, NULL},
      {"routeSource", NULL, js_route_source, NULL, NULL, NULL, napi_default, NULL},
      {"now", NULL, js_now, NULL, NULL, NULL, napi_default, NULL},
      {"clockOffset", NULL, js_clock_offset, NULL, NULL, NULL, napi_default, NULL},
      {"dropCapabilities", NULL, js_drop_capabilities, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
