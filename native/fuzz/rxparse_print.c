/*
 * Prints what rx_parse_control (native/rxparse.c) reads from each file given
 * on the command line, taken as a whole control buffer, as one JSON object a
 * line.  test/native/rxparse-fuzz.test.ts checks the seed corpus and some cut
 * and malformed buffers with it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rxparse.h"

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) {
      perror(argv[i]);
      return 1;
    }
    /* Exactly the file's size on the heap, so reading past it is caught. */
    unsigned char chunk[4096];
    size_t size = fread(chunk, 1, sizeof chunk, f);
    fclose(f);
    unsigned char *control = malloc(size ? size : 1);
    if (!control) return 1;
    memcpy(control, chunk, size);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_control = control;
    msg.msg_controllen = size;
    struct rx_meta m;
    rx_parse_control(&msg, &m);
    free(control);

    printf("{\"file\":\"%s\"", argv[i]);
    if (m.has_rx_time) printf(",\"rxTimeNs\":\"%lld\"", (long long)m.rx_time_ns);
    if (m.has_ttl) printf(",\"ttl\":%d", m.ttl);
    if (m.has_ee) {
      printf(",\"ee\":{\"errno\":%u,\"origin\":%u,\"type\":%u,\"code\":%u,\"info\":%u", m.ee_errno, m.ee_origin,
             m.ee_type, m.ee_code, m.ee_info);
      if (m.has_ext_offset) printf(",\"extensionOffset\":%u", m.ext_offset);
      if (m.has_offender) {
        char buf[INET6_ADDRSTRLEN] = "";
        inet_ntop(m.offender_family, m.offender_addr, buf, sizeof buf);
        printf(",\"offender\":\"%s\"", buf);
      }
      printf("}");
    }
    printf("}\n");
  }
  return 0;
}
