noinst_LIBRARIES += store/libstore.a
store_libstore_a_SOURCES = \
	store/store.h store/store-private.h store/json.h \
	store/store.c store/lookup.c store/digest.c store/blob.c store/ref.c store/match.c store/tree.c store/gc.c store/manifest.c \
	store/container.c store/cache.c store/oci.c store/oci-write.c store/ref-write.c store/migrate.c
store_libstore_a_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS) $(ZLIB_CFLAGS) $(ISAL_CFLAGS)
STORE_LIBS = store/libstore.a common/libcommon.a $(CRYPTO_LIBS) $(JANSSON_LIBS) $(ZLIB_LIBS) $(ISAL_LIBS)
