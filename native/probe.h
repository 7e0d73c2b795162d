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
 * The addon is split by job; this header is what the parts share.
 *   addon.c        module init, per-environment state, socket slots, teardown,
 *                  small N-API helpers
 *   sockets.c      open, adopt, fd, close, bind, bindDevice, localAddress, setIcmpFilter,
 *                  setReceiveBuffer, ref, routeSource
 *   receive.c      recvmsg, the uv_poll callback, drain, TCP connect results
 *   rxparse.c      control-message parsing (pure C: no N-API, no libuv, so it
 *                  can be fuzzed on its own; see native/fuzz/)
 *   send.c         send, connect
 *   privileges.c   lookupUser, dropPrivilegesAndExec (the CLI's boundary)
 *   clock.c        the timestamp scale: now, clockOffset
 *
 * Only the module's entry point is exported from the shared object
 * (binding.gyp builds with -fvisibility=hidden), so the functions declared
 * here do not leak into the process's symbol table.
 */
#ifndef VPSLINE_PROBE_H
#define VPSLINE_PROBE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <stdint.h>
#include <sys/socket.h>

/* KIND_RAW_UDP sends UDP packets whose header we write (constant-flow probes);
 * it never receives: answers come as ICMP on the raw ICMP socket.
 * KIND_RAW_TCP sends SYNs we write and receives the destination's SYN-ACK/RST. */
enum kind { KIND_RAW = 0, KIND_PING = 1, KIND_UDP = 2, KIND_TCP = 3, KIND_RAW_UDP = 4, KIND_RAW_TCP = 5 };

/* What a socket's uv_poll waits for when it is not waiting for a TCP connect. */
#define POLL_EVENTS (UV_READABLE | UV_PRIORITIZED)

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

/* ---------- small N-API helpers (addon.c) ---------- */

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, "EVPSLINE_NAPI", "N-API call failed: " #call); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

napi_value throw_errno(napi_env env, int err, const char *what);
napi_value throw_type(napi_env env, const char *msg);
void set_int(napi_env env, napi_value obj, const char *key, int64_t v);
void set_double(napi_env env, napi_value obj, const char *key, double v);
void set_bool(napi_env env, napi_value obj, const char *key, int v);
void set_str(napi_env env, napi_value obj, const char *key, const char *s);
int get_string(napi_env env, napi_value v, char *buf, size_t cap);
/* 4 -> AF_INET, 6 -> AF_INET6, anything else -> -1. */
int family_of(napi_env env, napi_value v);
/* Parse "a.b.c.d" or an IPv6 literal into a sockaddr of the socket's family. */
int make_sockaddr(int family, const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len);
void sockaddr_to_js(napi_env env, napi_value obj, const char *addr_key, const char *port_key,
                    const struct sockaddr *sa);

/* ---------- state, slots, lifecycle (addon.c) ---------- */

addon_state *state_of(napi_env env);
probe_sock *lookup(napi_env env, napi_value idv);
int register_sock(napi_env env, probe_sock *s);
void close_sock(probe_sock *s);

#define GET_SOCK(var, arg)                                              \
  probe_sock *var = lookup(env, arg);                                   \
  if (!var) return throw_type(env, "socket handle is not open");

/* ---------- clock (clock.c) ---------- */

void clock_init(void);
int64_t realtime_ns(void);
double rel_ns(int64_t abs_ns);

/* ---------- receiving (receive.c) ---------- */

void on_poll(uv_poll_t *handle, int status, int events);

/* ---------- the functions JavaScript calls ---------- */

napi_value js_open(napi_env env, napi_callback_info info);
napi_value js_close(napi_env env, napi_callback_info info);
napi_value js_bind(napi_env env, napi_callback_info info);
napi_value js_local_address(napi_env env, napi_callback_info info);
napi_value js_set_icmp_filter(napi_env env, napi_callback_info info);
napi_value js_set_receive_buffer(napi_env env, napi_callback_info info);
napi_value js_ref(napi_env env, napi_callback_info info);
napi_value js_route_source(napi_env env, napi_callback_info info);
napi_value js_send(napi_env env, napi_callback_info info);
napi_value js_connect(napi_env env, napi_callback_info info);
napi_value js_drain(napi_env env, napi_callback_info info);
napi_value js_now(napi_env env, napi_callback_info info);
napi_value js_clock_offset(napi_env env, napi_callback_info info);
napi_value js_adopt(napi_env env, napi_callback_info info);
napi_value js_bind_device(napi_env env, napi_callback_info info);
napi_value js_fd(napi_env env, napi_callback_info info);
napi_value js_lookup_user(napi_env env, napi_callback_info info);
napi_value js_drop_privileges_and_exec(napi_env env, napi_callback_info info);

#endif
