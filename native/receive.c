/*
 * Receiving: the uv_poll callback reads both queues of a socket (recvmsg, the
 * error queue first), turns each message and its control messages (parsed by
 * rxparse.c) into a JS object, and hands the batch to the socket's callback;
 * drain() does the same on demand.  TCP probe sockets report how their
 * connect() ended instead.
 *
 * Receive stamps come from SO_TIMESTAMPING (see sockets.c): a message without
 * one is stamped when it is read, and says so (kernelTime: false).  Send
 * stamps (see send.c) come out of the error queue as messages of their own.
 */
#include "probe.h"
#include "rxparse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

/*
 * TCP probe sockets: how often the kernel has sent the SYN again
 * (tcpi_total_retrans; it counts the SYN's retransmissions and, unlike
 * tcpi_retransmits, is not reset when the SYN-ACK arrives or the socket
 * closes).  An answer read after a retransmission may answer either SYN and
 * would be timed from the first: the engine counts such a probe as lost.
 * -1 when TCP_INFO cannot be read.
 */
static int64_t tcp_retransmits(int fd) {
  struct tcp_info info;
  socklen_t len = sizeof info;
  memset(&info, 0, sizeof info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
  return info.tcpi_total_retrans;
}

/* Messages read per wake-up and per queue, so one busy socket cannot starve the loop. */
#define MAX_BATCH 512
#define RX_DATA 4096
#define RX_CONTROL 512

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

  struct rx_meta meta;
  rx_parse_control(&msg, &meta);
  napi_value obj;
  napi_create_object(env, &obj);
  if (errqueue && meta.has_ee && meta.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
    /* The kernel's send stamp of a packet we sent, under the id send() gave
     * it (see sockets.c for which stamp). */
    set_str(env, obj, "kind", "tx-stamp");
    set_double(env, obj, "id", meta.ee_data);
    if (meta.has_rx_time) set_double(env, obj, "txNs", rel_ns(meta.rx_time_ns));
    *out = obj;
    return 1;
  }
  void *copy;
  napi_value buffer;
  napi_create_buffer_copy(env, (size_t)n, data, &copy, &buffer);
  set_str(env, obj, "kind", errqueue ? "error-queue" : "packet");
  napi_set_named_property(env, obj, "data", buffer);
  set_bool(env, obj, "truncated", (msg.msg_flags & MSG_TRUNC) != 0);
  if (msg.msg_namelen > 0) sockaddr_to_js(env, obj, "addr", "port", (struct sockaddr *)&from);

  /* Key order as before the parsing moved to rxparse.c, which was the order
   * the kernel writes its control messages in: stamp, TTL, extended error. */
  if (meta.has_rx_time) set_double(env, obj, "rxNs", rel_ns(meta.rx_time_ns));
  if (meta.has_ttl) set_int(env, obj, "ttl", meta.ttl);
  if (meta.has_ee) {
    napi_value eo;
    napi_create_object(env, &eo);
    set_int(env, eo, "errno", meta.ee_errno);
    set_int(env, eo, "origin", meta.ee_origin);
    set_int(env, eo, "type", meta.ee_type);
    set_int(env, eo, "code", meta.ee_code);
    set_int(env, eo, "info", meta.ee_info);
    if (meta.has_ext_offset) set_int(env, eo, "extensionOffset", meta.ext_offset);
    if (meta.has_offender) {
      char buf[INET6_ADDRSTRLEN] = "";
      inet_ntop(meta.offender_family, meta.offender_addr, buf, sizeof buf);
      set_str(env, eo, "offender", buf);
    }
    napi_set_named_property(env, obj, "ee", eo);
  }
  if (!meta.has_rx_time) set_double(env, obj, "rxNs", rel_ns(realtime_ns()));
  set_bool(env, obj, "kernelTime", meta.has_rx_time);
  /* An ICMP error read after the SYN was resent may quote either SYN. */
  if (s->kind == KIND_TCP) set_int(env, obj, "retransmits", tcp_retransmits(s->fd));
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
  set_str(env, obj, "kind", "connect");
  if (err == 0) {
    struct tcp_info info;
    socklen_t ilen = sizeof info;
    memset(&info, 0, sizeof info);
    if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) != 0) return idx;
    if (info.tcpi_state == TCP_SYN_SENT) return idx; /* still connecting: a spurious wake-up */
    /* CLOSE_WAIT: the connection was made and the server has already closed
     * it (a server that closes at once can get its FIN here before we look). */
    if (info.tcpi_state == TCP_ESTABLISHED || info.tcpi_state == TCP_CLOSE_WAIT) {
      set_str(env, obj, "result", "open");
      /* The kernel's own SYN -> SYN-ACK time, in µs from its send stamp of the
       * SYN when that was sent once (from TCP timestamps, in ms steps, when it
       * was resent: such probes are dropped as lost). */
      set_int(env, obj, "tcpRttUs", info.tcpi_rtt);
    } else {
      /* Closed with the error already taken (by connect itself, say). */
      set_str(env, obj, "result", "error");
      set_int(env, obj, "errno", 0);
    }
  } else if (err == ECONNRESET) {
    /* Reset after the connection was made (a RST before it is ECONNREFUSED):
     * the port is open. */
    struct tcp_info info;
    socklen_t ilen = sizeof info;
    memset(&info, 0, sizeof info);
    getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &info, &ilen);
    set_str(env, obj, "result", "open");
    set_int(env, obj, "tcpRttUs", info.tcpi_rtt);
  } else {
    set_str(env, obj, "result", err == ECONNREFUSED ? "refused" : "error");
    set_int(env, obj, "errno", err);
  }
  set_int(env, obj, "retransmits", tcp_retransmits(s->fd));
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

void on_poll(uv_poll_t *handle, int status, int events) {
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

/* drain(handle) -> messages waiting now; used before declaring a probe lost. */
napi_value js_drain(napi_env env, napi_callback_info info) {
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
