# Fuzzing (docs/fuzz.md): libFuzzer targets over every parser of untrusted
# input, built with clang by fuzz/fuzz.mk beside this build, against
# libarchive and libyaml built instrumented from Debian's sources
# (fuzz/build-deps.sh, once per build tree, into fuzz/deps/). `make
# fuzz-check` replays the corpus in fuzz/corpus/ once, as CI does;
# bench/fuzz.sh fuzzes.
FUZZ_MAKE = $(MAKE) --no-print-directory -f $(abs_top_srcdir)/fuzz/fuzz.mk \
	SRCDIR='$(abs_top_srcdir)' BUILDDIR='$(abs_top_builddir)' \
	LIB_SOURCES='$(common_libcommon_a_SOURCES) $(store_libstore_a_SOURCES) $(fetch_libfetch_a_SOURCES) $(fetch_libauthfile_a_SOURCES) \
		$(unpack_libunpack_a_SOURCES) $(exchange_libexchange_a_SOURCES) $(trust_libtrust_a_SOURCES) \
		$(commit_libcommit_a_SOURCES) $(launch_liblaunch_a_SOURCES) $(launch_libsandbox_a_SOURCES)' \
	SYS_CFLAGS='$(JANSSON_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS) $(CURL_CFLAGS) $(ISAL_CFLAGS) $(SECCOMP_CFLAGS) $(CAP_CFLAGS)' \
	SYS_LIBS='$(JANSSON_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS) $(CURL_LIBS) $(ISAL_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS)' \
	ARCHIVE_CFLAGS='$(ARCHIVE_CFLAGS)' ARCHIVE_LIBS='$(ARCHIVE_LIBS)' \
	YAML_CFLAGS='$(YAML_CFLAGS)' YAML_LIBS='$(YAML_LIBS)'

# Exit 77 from build-deps.sh (no clang, no dpkg-dev, no source to be had)
# is a skip, said as such for tests/run-all's count.
fuzz-deps:
	@$(abs_top_srcdir)/fuzz/build-deps.sh '$(abs_top_builddir)/fuzz/deps'

fuzz-build: config.h
	@$(abs_top_srcdir)/fuzz/build-deps.sh '$(abs_top_builddir)/fuzz/deps'
	@$(FUZZ_MAKE) all

# The same targets against Debian's uninstrumented libarchive and
# libyaml, for bench/fuzz.sh's comparison.
fuzz-build-system: config.h
	@$(FUZZ_MAKE) DEPS=system OUT='$(abs_top_builddir)/fuzz/build-system' all

fuzz-check: config.h
	@$(abs_top_srcdir)/fuzz/build-deps.sh '$(abs_top_builddir)/fuzz/deps'; rc=$$?; \
	if [ $$rc -eq 77 ]; then echo "SKIP: fuzz-check (the instrumented libraries cannot be built here)"; exit 0; fi; \
	[ $$rc -eq 0 ] && $(FUZZ_MAKE) check

fuzz-clean:
	rm -rf fuzz/build fuzz/build-system
clean-local: fuzz-clean

.PHONY: fuzz-deps fuzz-build fuzz-build-system fuzz-check fuzz-clean

EXTRA_DIST += fuzz/fuzz.mk fuzz/build-deps.sh fuzz/replay.sh fuzz/scratch.c fuzz/scratch.h \
	fuzz/alpine-index.c fuzz/sumfile.c fuzz/registry-ref.c fuzz/registry-challenge.c \
	fuzz/registry-manifest.c fuzz/registry-auth.c fuzz/store-docs.c fuzz/import.c fuzz/unpack.c \
	fuzz/dockerfile.c fuzz/user-db.c fuzz/env-file.c \
	fuzz/seed-corpus.sh fuzz/corpus bench/fuzz.sh docs/fuzz.md
