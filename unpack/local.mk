bin_PROGRAMS += unpack/unpack
unpack_unpack_SOURCES = unpack/main.c
unpack_unpack_LDADD = $(STORE_LIBS)
