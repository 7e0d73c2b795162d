/*
 * The timestamp scale.  Times handed to JavaScript are CLOCK_REALTIME
 * nanoseconds minus a base taken when the addon first loads, as doubles: exact
 * to the nanosecond for 104 days, and on the same clock as kernel receive
 * stamps, so RTT = kernel rx - native tx.
 */
#include "probe.h"

#include <time.h>

/* Shared by every environment (workers included): one scale per process. */
static int64_t clock_base_ns;

void clock_init(void) {
  if (!clock_base_ns) clock_base_ns = realtime_ns();
}

int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double rel_ns(int64_t abs_ns) { return (double)(abs_ns - clock_base_ns); }

/* now() -> CLOCK_REALTIME ns on the timestamp scale. */
napi_value js_now(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value ret;
  napi_create_double(env, rel_ns(realtime_ns()), &ret);
  return ret;
}

/* clockOffset() -> CLOCK_REALTIME - CLOCK_MONOTONIC in ns; it moves when the wall clock is stepped. */
napi_value js_clock_offset(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec mono;
  int64_t real = realtime_ns();
  clock_gettime(CLOCK_MONOTONIC, &mono);
  napi_value ret;
  napi_create_double(env, (double)(real - ((int64_t)mono.tv_sec * 1000000000LL + mono.tv_nsec)), &ret);
  return ret;
}
