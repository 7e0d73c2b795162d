/*
 * dropCapabilities(): clear every capability of every thread, ambient ones
 * too. Capabilities belong to threads, and capset() changes only the calling
 * one, so the threads Node started before us (libuv's pool, V8's workers)
 * would keep theirs: each is sent a signal whose handler drops its own
 * (the way libcap's psx does it), and we wait until all have answered.
 * A thread that blocks the signal cannot be reached (Node's SIGUSR1 watcher
 * blocks every signal and only waits on a semaphore): it is counted, not
 * waited for. Returns how many threads keep their capabilities.
 */
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

napi_value js_drop_capabilities(napi_env env, napi_callback_info info) {
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
