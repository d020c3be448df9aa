# The fuzz targets' build (GNU make), run by `make fuzz-build` and `make
# fuzz-check` (fuzz/local.mk), which pass in the library sources and
# pkg-config flags configure found. The libraries' sources are compiled
# again with clang, coverage instrumentation, ASan and UBSan, next to the
# configured build (whose config.h they share): automake knows one
# compiler per build. docs/fuzz.md.
#
#   DEPS=instrumented  link libarchive, libyaml and jansson as
#                      fuzz/build-deps.sh built them (the default)
#   DEPS=system        link Debian's (uninstrumented) ones, to compare

TARGETS = alpine-index sumfile registry-ref registry-challenge registry-manifest registry-auth \
	store-docs import unpack dockerfile user-db env-file

DEPS ?= instrumented
OUT ?= $(BUILDDIR)/fuzz/build
CLANG ?= clang

ifeq ($(DEPS),system)
DEP_CFLAGS = $(ARCHIVE_CFLAGS) $(YAML_CFLAGS)
DEP_LIBS = $(ARCHIVE_LIBS) $(YAML_LIBS)
else
PREFIX = $(BUILDDIR)/fuzz/deps/prefix
DEP_CFLAGS = -I$(PREFIX)/include
# Static, by file name: a -larchive could find Debian's shared one first.
DEP_LIBS = $(PREFIX)/lib/libarchive.a $(PREFIX)/lib/libyaml.a $(PREFIX)/lib/libjansson.a \
	$(filter-out -larchive,$(shell PKG_CONFIG_PATH=$(PREFIX)/lib/pkgconfig pkg-config --static --libs-only-l libarchive))
override SYS_LIBS := $(filter-out -ljansson,$(SYS_LIBS))
endif

# Roost's own code stops at its first undefined behaviour; Debian's
# libraries (fuzz/build-deps.sh) report theirs and go on.
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all
CFLAGS_FUZZ = -O1 -g -fno-omit-frame-pointer -pthread -Wall -Wextra -Wno-unused-parameter \
	-fsanitize=fuzzer-no-link $(SANITIZE)
CPPFLAGS_FUZZ = -I$(SRCDIR) -I$(BUILDDIR) $(DEP_CFLAGS) $(SYS_CFLAGS)

LIB_OBJS = $(patsubst %.c,$(OUT)/obj/%.o,$(filter %.c,$(LIB_SOURCES)))
PROGS = $(addprefix $(OUT)/fuzz-,$(TARGETS))

all: $(PROGS)

$(OUT)/obj/%.o: $(SRCDIR)/%.c
	@mkdir -p $(@D)
	@echo "  CLANG    $*.c"
	@$(CLANG) $(CPPFLAGS_FUZZ) $(CFLAGS_FUZZ) -MMD -MP -c -o $@ $<

# trust/client.c finds Alpine's key and the verifier where the configured
# build does (trust/local.mk): an import that carries a signature starts it.
$(OUT)/obj/trust/client.o: CPPFLAGS_FUZZ += -DTRUST_KEYS_DIR='"$(BUILDDIR)/trust"' \
	-DTRUST_SOURCE_KEYS_DIR='"$(SRCDIR)/trust"' -DTRUST_VERIFIER='"$(BUILDDIR)/trust/roost-verify"' \
	-DTRUST_BUILD_VERIFIER='"$(BUILDDIR)/trust/roost-verify"' -DTRUST_BUILD_DIR='"$(BUILDDIR)/"'

$(OUT)/libroost.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(OUT)/fuzz-%: $(OUT)/obj/fuzz/%.o $(OUT)/obj/fuzz/scratch.o $(OUT)/libroost.a $(filter %.a,$(DEP_LIBS))
	@echo "  LINK     fuzz-$*"
	@$(CLANG) -fsanitize=fuzzer $(SANITIZE) -pthread -o $@ $(filter %.o,$^) $(OUT)/libroost.a \
		$(DEP_LIBS) $(SYS_LIBS) -lm

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

# Each target once over every file of its corpus: no fuzzing, only the
# replay, under ASan, UBSan and LeakSanitizer. One PASS or FAIL line per
# target for tests/run-all's count.
check: all
	@cd $(SRCDIR) && OUT='$(OUT)' $(SRCDIR)/fuzz/replay.sh $(TARGETS)

.PHONY: all check
# The objects are kept: a second build compiles only what changed.
.SECONDARY:
