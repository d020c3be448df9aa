# launch: the runtime library, its tool, and their tests.
noinst_LIBRARIES += launch/liblaunch.a
launch_liblaunch_a_SOURCES = \
	launch/launch.h launch/launch-private.h launch/mount-util.h \
	launch/run.c launch/overlay.c launch/mount.c launch/dev.c launch/net.c \
	launch/tty.c launch/init.c launch/volumes.c \
	launch/image.c launch/image.h

bin_PROGRAMS += launch/launch
launch_launch_SOURCES = launch/main.c
launch_launch_LDADD = launch/liblaunch.a $(LAUNCH_SANDBOX_LIBS) $(STORE_LIBS) -lm

# A static probe the tests bind-mount into containers to look from inside.
check_PROGRAMS += tests/probe/probe
tests_probe_probe_SOURCES = tests/probe/probe.c
tests_probe_probe_LDFLAGS = -static

TESTS += tests/launch.sh tests/launch-tty.sh tests/launch-rootless.sh
EXTRA_DIST += tests/launch.sh tests/launch-tty.sh tests/launch-rootless.sh
