/*
 * libFuzzer harness for rx_parse_control (native/rxparse.c): the input bytes
 * are the control buffer of a received message, msg_controllen is their
 * length.  The bytes are copied into a heap block of exactly that size, so
 * AddressSanitizer reports a read even one byte past the end.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     native/fuzz/rxparse_fuzz.c native/rxparse.c -o rxparse_fuzz
 *   ./rxparse_fuzz -max_total_time=20 new-corpus/ native/fuzz/corpus/
 *
 * test/native/rxparse-fuzz.test.ts builds and runs it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "../rxparse.h"

/* Larger than the addon's receive control buffer (RX_CONTROL, 512). */
#define MAX_CONTROL 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_CONTROL) size = MAX_CONTROL;
  unsigned char *control = malloc(size ? size : 1);
  if (!control) return 0;
  memcpy(control, data, size);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_control = control;
  msg.msg_controllen = size;

  struct rx_meta meta;
  rx_parse_control(&msg, &meta);

  /* What receive.c relies on. */
  if (meta.has_offender && !meta.has_ee) abort();
  if (meta.has_offender && meta.offender_family != AF_INET && meta.offender_family != AF_INET6) abort();
  if (meta.has_rx_time && meta.rx_time_ns <= 0) abort();
  if (meta.has_ext_offset && !meta.ext_offset) abort();
  free(control);
  return 0;
}
