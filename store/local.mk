noinst_LIBRARIES += store/libstore.a
store_libstore_a_SOURCES = \
	store/store.h store/store-private.h \
	store/store.c store/lookup.c store/digest.c store/blob.c store/ref.c store/match.c store/tree.c store/gc.c store/manifest.c \
	store/container.c
store_libstore_a_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS)
STORE_LIBS = store/libstore.a common/libcommon.a $(CRYPTO_LIBS) $(JANSSON_LIBS)

bin_PROGRAMS += store/roost
store_roost_SOURCES = store/roost.c store/roost-cli.h store/roost-cmds.c store/roost-transfer.c
store_roost_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(ARCHIVE_CFLAGS)
store_roost_LDADD = $(STORE_LIBS) $(ARCHIVE_LIBS) $(LAUNCH_SANDBOX_LIBS)

dist_man_MANS += man/roost.1

# Bash completion, where bash-completion says it looks (or the usual place).
bashcompletiondir = $(BASH_COMPLETION_DIR)
dist_bashcompletion_DATA = store/roost-completion.bash
install-data-hook: install-completion-links
install-completion-links:
	cd $(DESTDIR)$(bashcompletiondir) && mv -f roost-completion.bash roost && \
	for t in pull unpack launch; do ln -sf roost $$t; done
uninstall-hook:
	cd $(DESTDIR)$(bashcompletiondir) && rm -f roost pull unpack launch
