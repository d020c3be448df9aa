noinst_LIBRARIES += fetch/libfetch.a
fetch_libfetch_a_SOURCES = \
	fetch/fetch.h fetch/fetch-private.h \
	fetch/source.h fetch/resolve.c fetch/http.c fetch/http-private.h fetch/http-multi.c fetch/http-ca.h fetch/http-ca.c fetch/pull.c fetch/source-alpine.c \
	fetch/http-send.h fetch/http-send.c \
	fetch/progress.h fetch/progress.c
fetch_libfetch_a_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(YAML_CFLAGS) $(CRYPTO_CFLAGS)
# The pull tool and the tests link this list; launch and roost run pull.
FETCH_LIBS = fetch/libfetch.a fetch/libauthfile.a trust/libtrust.a $(STORE_LIBS) $(CURL_LIBS) $(YAML_LIBS) $(CRYPTO_LIBS)

bin_PROGRAMS += fetch/pull
fetch_pull_SOURCES = fetch/main.c
fetch_pull_LDADD = $(FETCH_LIBS)
fetch_pull_LDFLAGS = -pthread $(SECRET_LINK_FLAGS)
dist_man_MANS += man/pull.1

check_PROGRAMS += tests/unit/test-fetch
tests_unit_test_fetch_SOURCES = tests/unit/test-fetch.c
tests_unit_test_fetch_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_fetch_LDADD = $(FETCH_LIBS) $(CMOCKA_LIBS)

TESTS += tests/unit/test-fetch tests/pull.sh tests/pull-faults.sh tests/pull-alpine.sh tests/pull-signature.sh \
	tests/pull-concurrent.sh
EXTRA_DIST += tests/pull.sh tests/pull-faults.sh tests/pull-alpine.sh tests/pull-signature.sh tests/faultserver.py \
	tests/pull-concurrent.sh \
	tests/lib/pull.sh bench/pull.sh docs/pull.md
EXTRA_DIST += bench/pull-latency.sh bench/delay-proxy.py
