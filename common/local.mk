noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = \
	common/error.c common/error.h \
	common/util.c common/util.h \
	common/cli.c common/cli.h \
	common/opts.c common/opts.h \
	common/user.c common/user.h
