# Every test speaks TAP: cmocka through CMOCKA_MESSAGE_OUTPUT, the shell
# tests through tests/lib/tap.sh.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
AM_TESTS_ENVIRONMENT = \
	CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	ROOST_SRCDIR='$(abs_top_srcdir)'; export ROOST_SRCDIR; \
	ROOST_BUILDDIR='$(abs_top_builddir)'; export ROOST_BUILDDIR; \
	PATH='$(abs_top_builddir)/fetch:$(abs_top_builddir)/unpack:$(abs_top_builddir)/launch:$(abs_top_builddir)/push:$(abs_top_builddir)/front:$(abs_top_builddir)/tests':$$PATH; export PATH;

UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += tests/unit/test-store
tests_unit_test_store_SOURCES = tests/unit/test-store.c
tests_unit_test_store_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_store_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test-digest
tests_unit_test_digest_SOURCES = tests/unit/test-digest.c
tests_unit_test_digest_CFLAGS = $(UNIT_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_test_digest_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test-opts
tests_unit_test_opts_SOURCES = tests/unit/test-opts.c
tests_unit_test_opts_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_opts_LDADD = common/libcommon.a $(CMOCKA_LIBS)

check_PROGRAMS += tests/store-put
tests_store_put_SOURCES = tests/store-put.c
tests_store_put_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_store_put_LDADD = $(STORE_LIBS)

check_PROGRAMS += tests/inject-eio
tests_inject_eio_SOURCES = tests/inject-eio.c
tests_inject_eio_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS)
tests_inject_eio_LDADD = $(SECCOMP_LIBS)

check_PROGRAMS += tests/memgrep
tests_memgrep_SOURCES = tests/memgrep.c

TESTS += tests/unit/test-store tests/unit/test-digest tests/unit/test-opts tests/cli.sh tests/cli-options.sh tests/roost-store.sh \
	tests/store-readonly.sh tests/roost-gc.sh tests/man.sh
TESTS += tests/image-names.sh tests/store-migrate.sh tests/crash.sh tests/diskfull.sh tests/soak.sh
EXTRA_DIST += tests/image-names.sh tests/store-migrate.sh tests/crash.sh bench/crash.sh tests/diskfull.sh tests/soak.sh \
	bench/soak.sh bench/gc.sh tests/lib/stress.sh docs/stress.md

EXTRA_DIST += tests/lib/tap.sh tests/lib/nginx.sh tests/lib/fixtures.sh tests/cli.sh tests/cli-options.sh \
	tests/roost-store.sh tests/store-readonly.sh tests/roost-gc.sh tests/man.sh tests/run-all tests/sanitize-tests \
	tests/main-job
