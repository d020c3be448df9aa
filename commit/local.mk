# commit: a named container's layer as an OCI layer, and the image made of
# it (docs/commit.md). Below the front; it uses the store and nothing above.
noinst_LIBRARIES += commit/libcommit.a
commit_libcommit_a_SOURCES = commit/commit.h commit/layer.c commit/config.c commit/commit.c commit/dockerfile.c \
	commit/build.c commit/build-private.h commit/copy.c commit/image-files.c
commit_libcommit_a_CFLAGS = $(AM_CFLAGS) $(ARCHIVE_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) $(ZLIB_CFLAGS)
COMMIT_LIBS = commit/libcommit.a $(STORE_LIBS) $(ARCHIVE_LIBS)

check_PROGRAMS += tests/unit/test-commit
tests_unit_test_commit_SOURCES = tests/unit/test-commit.c
tests_unit_test_commit_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_commit_LDADD = $(COMMIT_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test-dockerfile
tests_unit_test_dockerfile_SOURCES = tests/unit/test-dockerfile.c
tests_unit_test_dockerfile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dockerfile_LDADD = $(COMMIT_LIBS) $(CMOCKA_LIBS)

COMMIT_TESTS = tests/commit.sh tests/build.sh
TESTS += tests/unit/test-commit tests/unit/test-dockerfile $(COMMIT_TESTS)
EXTRA_DIST += $(COMMIT_TESTS) docs/commit.md bench/commit.sh bench/build.sh
