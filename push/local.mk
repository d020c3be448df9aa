# push/: a stored image to a registry. A library over fetch/'s transport
# and registry parts (fetch/http-send.c sends bodies) and the store; the
# push tool is its thin main, which the roost front runs.
noinst_LIBRARIES += push/libpush.a
push_libpush_a_SOURCES = push/push.h push/push-private.h push/push.c push/session.c
push_libpush_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)

bin_PROGRAMS += push/push
push_push_SOURCES = push/main.c
push_push_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
push_push_LDADD = push/libpush.a $(FETCH_LIBS) $(JANSSON_LIBS)
push_push_LDFLAGS = -pthread $(SECRET_LINK_FLAGS)
dist_man_MANS += man/push.1

TESTS += tests/push.sh
EXTRA_DIST += tests/push.sh docs/push.md bench/push.sh
