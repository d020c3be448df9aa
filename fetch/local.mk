noinst_LIBRARIES += fetch/libfetch.a
fetch_libfetch_a_SOURCES = \
	fetch/fetch.h fetch/fetch-private.h \
	fetch/resolve.c fetch/http.c fetch/pull.c \
	fetch/progress.h fetch/progress.c
fetch_libfetch_a_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(YAML_CFLAGS)
# launch links the same list to pull on first use.
FETCH_LIBS = fetch/libfetch.a $(STORE_LIBS) $(CURL_LIBS) $(YAML_LIBS)

bin_PROGRAMS += fetch/pull
fetch_pull_SOURCES = fetch/main.c
fetch_pull_LDADD = $(FETCH_LIBS)
