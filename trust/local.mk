# trust: OpenPGP signature checks with librnp (docs/pull.md, "Signatures").
noinst_LIBRARIES += trust/libtrust.a trust/libtrust-rnp.a
# The tools' side: which keys, and a check run by the verifier. No librnp.
# Where Alpine's key is looked for: installed first, then the source tree
# (trust_keys_add_shipped); the verifier likewise.
trust_libtrust_a_SOURCES = trust/trust.h trust/trust-wire.h trust/client.c
trust_libtrust_a_CFLAGS = $(AM_CFLAGS) \
	-DTRUST_KEYS_DIR='"$(trustkeysdir)"' -DTRUST_SOURCE_KEYS_DIR='"$(abs_top_srcdir)/trust"' \
	-DTRUST_VERIFIER='"$(pkglibexecdir)/roost-verify"' -DTRUST_BUILD_VERIFIER='"$(abs_top_builddir)/trust/roost-verify"' \
	-DTRUST_BUILD_DIR='"$(abs_top_builddir)/"'
TRUST_LIBS = trust/libtrust.a common/libcommon.a

# The verifier's side: librnp.
trust_libtrust_rnp_a_SOURCES = trust/rnp.h trust/rnp-keys.c trust/rnp-check.c
trust_libtrust_rnp_a_CFLAGS = $(AM_CFLAGS) $(RNP_CFLAGS) $(JANSSON_CFLAGS)
TRUST_RNP_LIBS = trust/libtrust-rnp.a common/libcommon.a $(RNP_LIBS) $(JANSSON_LIBS)

pkglibexec_PROGRAMS = trust/roost-verify
trust_roost_verify_SOURCES = trust/roost-verify.c
trust_roost_verify_CFLAGS = $(AM_CFLAGS) $(RNP_CFLAGS)
trust_roost_verify_LDADD = $(TRUST_RNP_LIBS)

# Alpine's release key, installed where an installed pull looks for it; an
# uninstalled build and the tests read it from the source tree.
trustkeysdir = $(pkgdatadir)/keys
dist_trustkeys_DATA = trust/alpine-ncopa.asc

check_PROGRAMS += tests/unit/test-trust
tests_unit_test_trust_SOURCES = tests/unit/test-trust.c
tests_unit_test_trust_CFLAGS = $(UNIT_CFLAGS) $(RNP_CFLAGS) -DROOST_SOURCE_KEYS='"$(abs_top_srcdir)/trust"'
tests_unit_test_trust_LDADD = $(TRUST_LIBS) $(TRUST_RNP_LIBS) $(CMOCKA_LIBS)
tests_unit_test_trust_LDFLAGS = -pthread
TESTS += tests/unit/test-trust tests/trust.sh
EXTRA_DIST += tests/trust.sh

check_PROGRAMS += tests/trust-check
tests_trust_check_SOURCES = tests/trust-check.c
tests_trust_check_CFLAGS = $(AM_CFLAGS) -DROOST_SOURCE_KEYS='"$(abs_top_srcdir)/trust"'
tests_trust_check_LDADD = $(TRUST_LIBS)
tests_trust_check_LDFLAGS = -pthread
