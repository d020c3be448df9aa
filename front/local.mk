# roost: the front. It may use every library (the store's, launch's cgroup
# sweep for gc, exchange for export, libarchive for import, commit/ for
# commit); no library uses it.
bin_PROGRAMS += front/roost
front_roost_SOURCES = front/roost.c front/roost-cli.h front/roost-cmds.c front/roost-verify.c front/roost-export.c front/roost-import.c \
	front/roost-commit.c front/roost-build.c front/roost-login.c
front_roost_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(ARCHIVE_CFLAGS)
# trust/: verify checks a stored signature again. fetch/libauthfile.a: login and
# logout write auth.json (the pull tool checks the credentials).
front_roost_LDADD = commit/libcommit.a fetch/libauthfile.a $(EXCHANGE_LIBS) $(LAUNCH_SANDBOX_LIBS) $(TRUST_LIBS)
front_roost_LDFLAGS = -pthread $(SECRET_LINK_FLAGS)

dist_man_MANS += man/roost.1

# Bash completion, where bash-completion says it looks (or the usual place).
bashcompletiondir = $(BASH_COMPLETION_DIR)
dist_bashcompletion_DATA = front/roost-completion.bash
install-data-hook: install-completion-links
install-completion-links:
	cd $(DESTDIR)$(bashcompletiondir) && mv -f roost-completion.bash roost && \
	for t in pull unpack launch; do ln -sf roost $$t; done
uninstall-hook:
	cd $(DESTDIR)$(bashcompletiondir) && rm -f roost pull unpack launch
