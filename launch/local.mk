# launch: the runtime library, its tool, and their tests.
noinst_LIBRARIES += launch/liblaunch.a
launch_liblaunch_a_SOURCES = \
	launch/launch.h launch/launch-private.h launch/mount-util.h \
	launch/run.c launch/overlay.c launch/mount.c launch/dev.c launch/net.c \
	launch/tty.c launch/init.c launch/user.c launch/volumes.c launch/steps.c launch/steps.h \
	launch/image.c launch/image-pull.c launch/image.h launch/report.h launch/init-blob.S launch/binfmt.c \
	launch/container.c launch/container.h launch/command.c launch/env-file.c launch/sync.c launch/sync.h

bin_PROGRAMS += launch/launch
launch_launch_SOURCES = launch/main.c
# A launch is mostly process start-up: the dynamic loader relocating
# libraries costs more than the namespaces (docs/launch.md), so these few
# are linked in statically. libcrypto is not linked at all: launch only
# looks things up in the store (store/lookup.c), and leaving it off the
# line makes a change that would drag OpenSSL's start-up back in fail to
# link. Nor are libcurl and libarchive: pulling on first use runs the
# sibling pull and unpack tools.
launch_launch_LDADD = launch/liblaunch.a launch/libsandbox.a store/libstore.a common/libcommon.a \
	-l:libseccomp.a -l:libcap.a -l:libjansson.a -lpthread -lm
# Where configure found that a static PIE links, launch is one: no dynamic
# loader at all (docs/launch.md; --disable-static-launch).
launch_launch_LDFLAGS = $(LAUNCH_LDFLAGS) $(SECRET_LINK_FLAGS)

# roost-init, the program PID 1 and the command's process become inside
# the container (launch/roost-init.c), is carried in launch's binary by
# launch/init-blob.S. Its own rule and compiler, like the probe's below:
# it is static, and never built with the sanitizers' CFLAGS.
EXTRA_DIST += launch/roost-init.c
CLEANFILES += launch/roost-init
launch/roost-init: launch/roost-init.c launch/report.h
	$(AM_V_CC)$(MKDIR_P) launch && $(INIT_CC) -Os -s -static -Wall -I$(srcdir) -o $@ $(srcdir)/launch/roost-init.c
launch/init-blob.$(OBJEXT): launch/roost-init

# A static probe the tests bind-mount into containers to look from inside
# (the fixture tree has no libc). Built by its own rule: the sanitizer
# flags CI puts in CFLAGS cannot link statically.
check_DATA = tests/probe/probe
EXTRA_DIST += tests/probe/probe.c
CLEANFILES += tests/probe/probe
tests/probe/probe: tests/probe/probe.c
	$(AM_V_CC)$(MKDIR_P) tests/probe && $(CC) -O2 -Wall -static -o $@ $(srcdir)/tests/probe/probe.c

# The image config's precedence (launch/command.c), a pure function.
check_PROGRAMS += tests/unit/test-launch-config
tests_unit_test_launch_config_SOURCES = tests/unit/test-launch-config.c
tests_unit_test_launch_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_launch_config_LDADD = launch/liblaunch.a common/libcommon.a $(CMOCKA_LIBS)
TESTS += tests/unit/test-launch-config
# The messages between launch and its container's side (launch/sync.c).
check_PROGRAMS += tests/unit/test-launch-sync
tests_unit_test_launch_sync_SOURCES = tests/unit/test-launch-sync.c
tests_unit_test_launch_sync_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_launch_sync_LDADD = launch/liblaunch.a common/libcommon.a $(CMOCKA_LIBS)
TESTS += tests/unit/test-launch-sync

TESTS += tests/launch.sh tests/launch-oci.sh tests/launch-layers.sh tests/launch-tty.sh tests/launch-rootless.sh tests/launch-image.sh \
	tests/launch-explain.sh tests/launch-habits.sh tests/launch-arch.sh
EXTRA_DIST += tests/launch.sh tests/launch-oci.sh tests/launch-layers.sh tests/launch-tty.sh tests/launch-rootless.sh tests/launch-image.sh \
	tests/launch-explain.sh tests/launch-habits.sh tests/launch-arch.sh
EXTRA_DIST += bench/launch.sh
dist_man_MANS += man/launch.1
EXTRA_DIST += docs/launch.md
