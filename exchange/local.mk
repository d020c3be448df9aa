# exchange: the formats images travel in. A library the
# roost front calls; it reaches the store through store.h alone.
noinst_LIBRARIES += exchange/libexchange.a
exchange_libexchange_a_SOURCES = exchange/exchange.h
exchange_libexchange_a_CFLAGS = $(AM_CFLAGS) $(ARCHIVE_CFLAGS) $(JANSSON_CFLAGS)
EXCHANGE_LIBS = exchange/libexchange.a $(UNPACK_LIBS)

# ---- import (roost import): OCI layouts and archives, docker-archives,
# roost's earlier export, root filesystem tarballs ----
exchange_libexchange_a_SOURCES += exchange/import-private.h exchange/import.c exchange/import-source.c \
	exchange/import-oci.c exchange/import-docker.c exchange/import-rootfs.c exchange/import-roost.c
IMPORT_TESTS = tests/import.sh
TESTS += $(IMPORT_TESTS)
EXTRA_DIST += $(IMPORT_TESTS) docs/import.md bench/import.sh
# ---- end of import ----
