noinst_LIBRARIES += unpack/libunpack.a
unpack_libunpack_a_SOURCES = \
	unpack/unpack.h unpack/unpack-private.h \
	unpack/unpack.c unpack/writer.c unpack/feed.c unpack/path.c
unpack_libunpack_a_CFLAGS = $(AM_CFLAGS) $(ARCHIVE_CFLAGS) $(ISAL_CFLAGS) -pthread
UNPACK_LIBS = unpack/libunpack.a $(STORE_LIBS) $(ARCHIVE_LIBS) $(ISAL_LIBS)

bin_PROGRAMS += unpack/unpack
unpack_unpack_SOURCES = unpack/main.c
unpack_unpack_LDADD = $(UNPACK_LIBS)
unpack_unpack_LDFLAGS = -pthread
