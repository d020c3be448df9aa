# exchange: the interchange formats (docs/exchange.md), between the store
# and the files skopeo, umoci, podman, runc and crun read and write. It
# uses the store and unpack; only the front uses it.
noinst_LIBRARIES += exchange/libexchange.a
exchange_libexchange_a_SOURCES = exchange/exchange.h exchange/exchange-private.h
exchange_libexchange_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(ARCHIVE_CFLAGS)
EXCHANGE_LIBS = exchange/libexchange.a $(TRUST_LIBS) $(UNPACK_LIBS)
EXTRA_DIST += docs/exchange.md

# ---- export (roost export --format oci|rootfs|bundle)
exchange_libexchange_a_SOURCES += exchange/export.c exchange/layout.c exchange/rootfs.c exchange/bundle.c
EXPORT_TESTS = tests/export.sh
TESTS += $(EXPORT_TESTS)
EXTRA_DIST += $(EXPORT_TESTS)

# ---- import (roost import)
exchange_libexchange_a_SOURCES += exchange/import-private.h exchange/import.c exchange/import-source.c \
	exchange/import-oci.c exchange/import-docker.c exchange/import-rootfs.c exchange/import-roost.c
IMPORT_TESTS = tests/import.sh
TESTS += $(IMPORT_TESTS)
EXTRA_DIST += $(IMPORT_TESTS) bench/import.sh
