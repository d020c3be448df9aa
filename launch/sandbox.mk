# launch hardening: capabilities, seccomp, masked paths, cgroups, user
# namespace maps. Linked into launch through LAUNCH_SANDBOX_LIBS.
noinst_LIBRARIES += launch/libsandbox.a
launch_libsandbox_a_SOURCES = \
	launch/sandbox.h launch/sandbox-private.h launch/sandbox.c \
	launch/explain.h launch/explain.c \
	launch/caps.c launch/seccomp.c launch/masks.c \
	launch/cgroup-private.h launch/cgroup.c launch/cgroup-devices.c launch/userns.c
nodist_launch_libsandbox_a_SOURCES = launch/seccomp-default.c
launch_libsandbox_a_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS)

# The default seccomp filter, compiled once here rather than at every
# launch (libseccomp's compiling would cost more than the filter's
# loading); see launch/seccomp.c.
noinst_PROGRAMS += launch/seccomp-gen
launch_seccomp_gen_SOURCES = launch/seccomp-gen.c launch/seccomp.c launch/caps.c
launch_seccomp_gen_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS) -DROOST_SECCOMP_GEN
launch_seccomp_gen_LDADD = common/libcommon.a $(SECCOMP_LIBS) $(CAP_LIBS)
launch/seccomp-default.c: launch/seccomp-gen$(EXEEXT)
	$(AM_V_GEN)launch/seccomp-gen$(EXEEXT) > $@.tmp && mv -f $@.tmp $@
CLEANFILES += launch/seccomp-default.c launch/seccomp-default.c.tmp
LAUNCH_SANDBOX_LIBS = launch/libsandbox.a $(SECCOMP_LIBS) $(CAP_LIBS) -lm

# Unit tests: privileged cases run in forked children (their own mount
# namespace where they mount) and skip, saying so, when not root.
check_PROGRAMS += tests/unit/test-sandbox tests/unit/test-sandbox-cgroup
tests_unit_test_sandbox_SOURCES = tests/unit/test-sandbox.c
tests_unit_test_sandbox_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS)
tests_unit_test_sandbox_LDADD = $(LAUNCH_SANDBOX_LIBS) common/libcommon.a $(CMOCKA_LIBS)
tests_unit_test_sandbox_cgroup_SOURCES = tests/unit/test-sandbox-cgroup.c
tests_unit_test_sandbox_cgroup_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sandbox_cgroup_LDADD = $(LAUNCH_SANDBOX_LIBS) common/libcommon.a $(CMOCKA_LIBS)
TESTS += tests/unit/test-sandbox tests/unit/test-sandbox-cgroup

# The probe the end-to-end tests bind-mount into a container: static, so
# it runs in any image, and built by its own rule, as tests/probe/probe is:
# the sanitizer flags CI puts in CFLAGS cannot link statically.
check_DATA += tests/probe/seccomp-probe
EXTRA_DIST += tests/probe/seccomp-probe.c tests/probe/int80.h
CLEANFILES += tests/probe/seccomp-probe
tests/probe/seccomp-probe: tests/probe/seccomp-probe.c tests/probe/int80.h
	$(AM_V_CC)$(MKDIR_P) tests/probe && $(CC) -O2 -Wall -static -o $@ $(srcdir)/tests/probe/seccomp-probe.c
# Runs launch as on a kernel without mount_setattr (before 5.12).
check_DATA += tests/probe/no-mount-setattr
EXTRA_DIST += tests/probe/no-mount-setattr.c
CLEANFILES += tests/probe/no-mount-setattr
tests/probe/no-mount-setattr: tests/probe/no-mount-setattr.c
	$(AM_V_CC)$(MKDIR_P) tests/probe && $(CC) -O2 -Wall -o $@ $(srcdir)/tests/probe/no-mount-setattr.c
# Runs launch as under a runtime that refuses clone3 (docker's filter).
check_DATA += tests/probe/no-clone3
EXTRA_DIST += tests/probe/no-clone3.c
CLEANFILES += tests/probe/no-clone3
tests/probe/no-clone3: tests/probe/no-clone3.c
	$(AM_V_CC)$(MKDIR_P) tests/probe && $(CC) -O2 -Wall -o $@ $(srcdir)/tests/probe/no-clone3.c

# End-to-end: the hardening through launch, as root and as the test user.
TESTS += tests/harden.sh tests/harden-limits.sh tests/harden-rootless.sh
EXTRA_DIST += tests/harden.sh tests/harden-limits.sh tests/harden-rootless.sh bench/harden.sh docs/security.md
