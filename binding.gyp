{
  "targets": [
    {
      "target_name": "vpsline_probe",
      "sources": [
        "native/addon.c",
        "native/sockets.c",
        "native/receive.c",
        "native/rxparse.c",
        "native/send.c",
        "native/privileges.c",
        "native/clock.c"
      ],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
