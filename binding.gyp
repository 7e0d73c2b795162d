{
  "targets": [
    {
      "target_name": "vpsline_probe",
      "sources": ["native/probe.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
