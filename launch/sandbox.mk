# launch hardening: capabilities, seccomp, masked paths, cgroups, user
# namespace maps. Linked into launch through LAUNCH_SANDBOX_LIBS.
noinst_LIBRARIES += launch/libsandbox.a
launch_libsandbox_a_SOURCES = launch/sandbox.h launch/sandbox.c
launch_libsandbox_a_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS)
LAUNCH_SANDBOX_LIBS = launch/libsandbox.a $(SECCOMP_LIBS) $(CAP_LIBS)
