noinst_LIBRARIES += unpack/libunpack.a
unpack_libunpack_a_SOURCES = \
	unpack/unpack.h unpack/unpack-private.h unpack/archive-util.h \
	unpack/unpack.c unpack/writer.c unpack/read.c unpack/layer.c unpack/dirs.c unpack/feed.c unpack/path.c
unpack_libunpack_a_CFLAGS = $(AM_CFLAGS) $(ARCHIVE_CFLAGS) $(ISAL_CFLAGS) -pthread
UNPACK_LIBS = unpack/libunpack.a $(STORE_LIBS) $(ARCHIVE_LIBS) $(ISAL_LIBS)

bin_PROGRAMS += unpack/unpack
unpack_unpack_SOURCES = unpack/main.c
unpack_unpack_LDADD = $(UNPACK_LIBS)
unpack_unpack_LDFLAGS = -pthread

# Tests: see docs/unpack.md for what each covers.
check_PROGRAMS += tests/unit/test-unpack
tests_unit_test_unpack_SOURCES = tests/unit/test-unpack.c
tests_unit_test_unpack_CFLAGS = $(UNIT_CFLAGS) $(ARCHIVE_CFLAGS)
tests_unit_test_unpack_LDADD = $(UNPACK_LIBS) $(CMOCKA_LIBS)
tests_unit_test_unpack_LDFLAGS = -pthread
check_PROGRAMS += tests/unpack-layer
tests_unpack_layer_SOURCES = tests/unpack-layer.c
tests_unpack_layer_LDADD = $(UNPACK_LIBS)
tests_unpack_layer_LDFLAGS = -pthread
UNPACK_TESTS = tests/unpack.sh tests/unpack-hostile.sh tests/unpack-fidelity.sh tests/unpack-layers.sh
TESTS += tests/unit/test-unpack $(UNPACK_TESTS)
EXTRA_DIST += $(UNPACK_TESTS) tests/unpack-hostile.py tests/unpack-layers.py bench/unpack.sh docs/unpack.md
dist_man_MANS += man/unpack.1
