/*
 * Module init, per-environment state and socket slots, teardown, and the
 * small N-API helpers the other parts share.  See probe.h for the map.
 *
 * Each environment (the main thread, each worker) gets its own addon_state as
 * N-API instance data; handles JavaScript holds are indexes into its slots.
 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------- small N-API helpers ---------- */

napi_value throw_errno(napi_env env, int err, const char *what) {
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
    case ENODEV: name = "ENODEV"; break;
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

napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "EVPSLINE_ARG", msg);
  return NULL;
}

void set_int(napi_env env, napi_value obj, const char *key, int64_t v) {
  napi_value val;
  napi_create_int64(env, v, &val);
  napi_set_named_property(env, obj, key, val);
}

void set_double(napi_env env, napi_value obj, const char *key, double v) {
  napi_value val;
  napi_create_double(env, v, &val);
  napi_set_named_property(env, obj, key, val);
}

void set_bool(napi_env env, napi_value obj, const char *key, int v) {
  napi_value val;
  napi_get_boolean(env, v, &val);
  napi_set_named_property(env, obj, key, val);
}

void set_str(napi_env env, napi_value obj, const char *key, const char *s) {
  napi_value val;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &val);
  napi_set_named_property(env, obj, key, val);
}

int make_sockaddr(int family, const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len) {
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

void sockaddr_to_js(napi_env env, napi_value obj, const char *addr_key, const char *port_key,
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

int get_string(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) return -1;
  return len < cap - 1 ? 0 : -1;
}

int family_of(napi_env env, napi_value v) {
  int32_t f = 0;
  napi_get_value_int32(env, v, &f);
  return f == 4 ? AF_INET : f == 6 ? AF_INET6 : -1;
}

/* ---------- state and slots ---------- */

addon_state *state_of(napi_env env) {
  addon_state *st = NULL;
  napi_get_instance_data(env, (void **)&st);
  return st;
}

probe_sock *lookup(napi_env env, napi_value idv) {
  int32_t id;
  if (napi_get_value_int32(env, idv, &id) != napi_ok) return NULL;
  addon_state *st = state_of(env);
  if (!st || id < 0 || id >= st->nslots) return NULL;
  return st->slots[id];
}

int register_sock(napi_env env, probe_sock *s) {
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

void close_sock(probe_sock *s) {
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

/* ---------- module init ---------- */

static napi_value init(napi_env env, napi_value exports) {
  clock_init();
  addon_state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  napi_set_instance_data(env, st, free_state, NULL);
  napi_add_async_cleanup_hook(env, cleanup_env, st, &st->cleanup_handle);
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_default, NULL},
      {"bindDevice", NULL, js_bind_device, NULL, NULL, NULL, napi_default, NULL},
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
      {"adopt", NULL, js_adopt, NULL, NULL, NULL, napi_default, NULL},
      {"fd", NULL, js_fd, NULL, NULL, NULL, napi_default, NULL},
      {"lookupUser", NULL, js_lookup_user, NULL, NULL, NULL, napi_default, NULL},
      {"dropPrivilegesAndExec", NULL, js_drop_privileges_and_exec, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
