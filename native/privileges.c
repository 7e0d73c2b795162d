/*
 * The privilege boundary: lookupUser() and dropPrivilegesAndExec().
 *
 * Capabilities, the bounding set and no_new_privs belong to threads, and a
 * Node process has threads we cannot reach (the SIGUSR1 watcher blocks every
 * signal). So vpsline does not try to clean each thread of a running image:
 * once the sockets are open, the main thread alone gives up everything and
 * then replaces the whole image with execve(). The kernel ends every other
 * thread; the new image starts with one thread in the state set here, and
 * every thread it starts inherits it. The sockets survive because their
 * descriptors are left open across the exec (see adopt() in sockets.c).
 */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* lookupUser(name) -> { uid, gid } or null when there is no such user. */
napi_value js_lookup_user(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[256];
  if (argc < 1 || get_string(env, argv[0], name, sizeof name)) return throw_type(env, "lookupUser(name)");
  struct passwd pw, *found = NULL;
  char buf[4096];
  int err = getpwnam_r(name, &pw, buf, sizeof buf, &found);
  if (err) return throw_errno(env, err, "getpwnam_r");
  napi_value ret;
  if (!found) {
    napi_get_null(env, &ret);
    return ret;
  }
  napi_create_object(env, &ret);
  set_int(env, ret, "uid", found->pw_uid);
  set_int(env, ret, "gid", found->pw_gid);
  return ret;
}

static int last_cap(void) {
  int n = CAP_LAST_CAP;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
  if (f) {
    if (fscanf(f, "%d", &n) != 1) n = CAP_LAST_CAP;
    fclose(f);
  }
  return n;
}

/* Read a string array argument into a NULL-terminated vector (caller frees). */
static char **string_vector(napi_env env, napi_value arr) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok || n > 65536) return NULL;
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (!v) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    size_t len = 0;
    if (napi_get_element(env, arr, i, &item) != napi_ok ||
        napi_get_value_string_utf8(env, item, NULL, 0, &len) != napi_ok || !(v[i] = malloc(len + 1)) ||
        napi_get_value_string_utf8(env, item, v[i], len + 1, &len) != napi_ok)
      return NULL; /* leaks on a malformed call; the caller throws */
  }
  return v;
}

/*
 * dropPrivilegesAndExec(uid, gid, keepFds, file, argv, envp): never returns
 * on success. uid -1 keeps the uid (only when it is already what the caller
 * wants); uid 0 kept is made powerless by the securebits and the empty
 * bounding set. Order matters: the bounding set and securebits need
 * CAP_SETPCAP, the uid change CAP_SETUID, so they come first.
 */
napi_value js_drop_privileges_and_exec(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t uid = -1, gid = -1;
  char file[4096];
  if (argc < 6 || napi_get_value_int32(env, argv[0], &uid) != napi_ok ||
      napi_get_value_int32(env, argv[1], &gid) != napi_ok || get_string(env, argv[3], file, sizeof file))
    return throw_type(env, "dropPrivilegesAndExec(uid, gid, keepFds, file, argv, envp)");
  uint32_t nfds = 0;
  napi_get_array_length(env, argv[2], &nfds);
  char **args = string_vector(env, argv[4]);
  char **envp = string_vector(env, argv[5]);
  if (!args || !envp || !args[0]) return throw_type(env, "dropPrivilegesAndExec: bad argv or envp");

  /* Node marks its own standard streams close-on-exec; the next image needs them. */
  for (int fd = 0; fd < 3; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value item;
    int32_t fd = -1;
    napi_get_element(env, argv[2], i, &item);
    napi_get_value_int32(env, item, &fd);
    int flags = fcntl(fd, F_GETFD);
    if (fd < 3 || flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0)
      return throw_errno(env, fd < 3 ? EBADF : errno, "fcntl(F_SETFD)");
  }

  int is_root = geteuid() == 0 || getuid() == 0;
  if (is_root && uid <= 0) {
    /* Staying uid 0: it must not regain capabilities at the execve below, nor
     * at any later one. */
    int bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
               SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) return throw_errno(env, errno, "prctl(PR_SET_SECUREBITS)");
  }
  if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1) {
    int n = last_cap();
    for (int cap = 0; cap <= n; cap++)
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL && is_root)
        return throw_errno(env, errno, "prctl(PR_CAPBSET_DROP)");
  }
  if (uid > 0) {
    /* glibc applies these to every thread of the process. */
    if (setgroups(0, NULL) != 0) return throw_errno(env, errno, "setgroups");
    if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) return throw_errno(env, errno, "setresgid");
    if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) return throw_errno(env, errno, "setresuid");
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r != (uid_t)uid || e != (uid_t)uid || s != (uid_t)uid)
      return throw_errno(env, EPERM, "setresuid (uid did not change)");
  }
  /* No capability in any set, ambient included; then no way to gain one. */
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (syscall(SYS_capset, &hdr, data) != 0) return throw_errno(env, errno, "capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return throw_errno(env, errno, "prctl(PR_SET_NO_NEW_PRIVS)");

  execve(file, args, envp);
  return throw_errno(env, errno, "execve");
}
