# The registry source (fetch/source-registry.c) and its parts that need no network (fetch/registry.h).
fetch_libfetch_a_SOURCES += fetch/registry.h fetch/registry.c fetch/registry-session.h fetch/registry-session.c fetch/registry-login.c fetch/source-registry.c
# The credentials files alone (no network): the roost front links it for
# login and logout, which leave the check against the registry to pull.
noinst_LIBRARIES += fetch/libauthfile.a
fetch_libauthfile_a_SOURCES = fetch/registry-auth.c
fetch_libauthfile_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)

check_PROGRAMS += tests/unit/test-registry
tests_unit_test_registry_SOURCES = tests/unit/test-registry.c
tests_unit_test_registry_CFLAGS = $(UNIT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_registry_LDADD = $(FETCH_LIBS) $(CMOCKA_LIBS)
TESTS += tests/unit/test-registry tests/registry.sh tests/login.sh tests/secret-wipe.sh
EXTRA_DIST += tests/registry.sh tests/login.sh tests/secret-wipe.sh tests/lib/registry.sh tests/tokenserver.py bench/pull-registry.sh
