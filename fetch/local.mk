bin_PROGRAMS += fetch/pull
fetch_pull_SOURCES = fetch/main.c
fetch_pull_LDADD = $(STORE_LIBS)
