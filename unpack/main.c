/* unpack: extract a stored image, or any tarball, safely (man unpack). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/opts.h"
#include "common/util.h"
#include "store/store.h"
#include "unpack/unpack.h"

static const char *arg_store;
static const char *arg_arch;
static const char *arg_to;
static bool arg_force;
static bool arg_quiet, arg_keep_devices, arg_keep_setid;
static uint64_t arg_max_bytes, arg_max_entries;

enum {
        OPT_STORE = 256,
        OPT_ARCH,
        OPT_TO,
        OPT_MAX_SIZE,
        OPT_MAX_ENTRIES,
        OPT_KEEP_DEVICES,
        OPT_KEEP_SETID,
        OPT_FORCE,
        OPT_VERSION
};

static const struct opt options[] = {
        { OPT_STORE, 0, "store", "DIR",
          "the store (default: $ROOST_STORE, /var/lib/roost\nfor root, else ~/.local/share/roost)" },
        { OPT_ARCH, 0, "arch", "ARCH", "the image's architecture (default: the host's)" },
        { OPT_TO, 0, "to", "DIR", "export the image into DIR instead of the store" },
        { OPT_FORCE, 0, "force", NULL,
          "extract the image again over its tree in the store\n(the repair for a tree roost verify reports\n"
          "damaged): the archive is re-hashed first; refused\nwhile a container runs it" },
        { OPT_KEEP_DEVICES, 0, "keep-devices", NULL, "into a DIR: create device nodes (root only)" },
        { OPT_KEEP_SETID, 0, "keep-setid", NULL, "into a DIR: keep setuid/setgid bits and file\ncapabilities" },
        { OPT_MAX_SIZE, 0, "max-size", "SIZE",
          "refuse archives with more file data (default 16G;\nsuffixes K, M, G, T)" },
        { OPT_MAX_ENTRIES, 0, "max-entries", "N", "refuse archives with more entries (default 1000000)" },
        { 'q', 'q', "quiet", NULL, "no progress, no summary" },
        { 'h', 'h', "help", NULL, "this help" },
        { OPT_VERSION, 0, "version", NULL, "version" },
        {},
};

static const struct opts_spec spec = {
        .prog = "unpack",
        .usage = "[OPTIONS] NAME[:TAG]      extract a stored image into the store\n"
                 "[OPTIONS] NAME TAG\n"
                 "[OPTIONS] NAME[:TAG] --to DIR   export a stored image into DIR\n"
                 "[OPTIONS] FILE DIR        extract a tarball (\"-\": stdin) into DIR\n"
                 "[OPTIONS] FILE FILE... DIR   flatten layer tarballs, bottom first, into DIR",
        .about = "\n"
                 "A bare NAME is the newest image of that name in the store (by release\n"
                 "version, else the last pulled); NAME:3.20.3 matches whatever tag pulled it.\n"
                 "DIR must not exist or be empty. gzip, xz, zstd, bzip2 and plain tar are read.\n"
                 "A DIR gets no device node, setuid/setgid bit or file capability unless asked\n"
                 "(other users may reach it); the store's trees keep them all.\n"
                 "With two arguments, the first is a FILE when it is \"-\" or an existing file.\n"
                 "Several FILEs are an image's layers: their OCI whiteouts (.wh.NAME,\n"
                 ".wh..wh..opq) remove what the layers below put there.\n"
                 "Options may come before or after the operands.",
        .opts = options,
        .footer = "Exit status: 0 done (or already done), 1 other failure (a tree to repair in use),\n"
                  "2 usage, 3 image or file not found, 5 the archive to repair from is damaged,\n"
                  "6 store or target not writable, 7 archive corrupt, hostile or over a limit.",
};

static int parse_size(const char *s, uint64_t *ret)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *s == '-')
                return -EINVAL;
        unsigned shift = 0;
        switch (*end) {
        case 0:
                break;
        case 'k':
        case 'K':
                shift = 10;
                break;
        case 'm':
        case 'M':
                shift = 20;
                break;
        case 'g':
        case 'G':
                shift = 30;
                break;
        case 't':
        case 'T':
                shift = 40;
                break;
        default:
                return -EINVAL;
        }
        if (*end && end[1] && strcmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0)
                return -EINVAL;
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t)v << shift;
        return *ret ? 0 : -EINVAL;
}

struct progress {
        bool on;
        bool shown;
        struct timespec last;
};

static void show_progress(void *userdata, uint64_t done, uint64_t total)
{
        struct progress *p = userdata;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        bool final = total && done >= total;
        long ms = (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000;
        if (!final && ms < 100)
                return;
        p->last = now;
        if (total)
                fprintf(stderr, "\runpack: %3u%% (%.1f of %.1f MB)", (unsigned)(done * 100 / total),
                        done / 1e6, total / 1e6);
        else
                fprintf(stderr, "\runpack: %.1f MB", done / 1e6);
        p->shown = true;
}

static void end_progress(struct progress *p)
{
        if (p->shown)
                fputc('\n', stderr);
        p->shown = false;
}

static void show_warning(void *userdata, const char *msg)
{
        end_progress(userdata);
        cli_warn("warning: %s", msg);
}

/* unpack --to: REF's layers flattened into arg_to, bottom first, with
 * their whiteouts applied. -ENOENT when a layer's blob is missing. */
static int unpack_to(store *s, const struct store_ref *ref, const struct unpack_options *o, roost_error *e)
{
        enum { LABEL = 320 };
        size_t n = ref->n_layers, opened = 0;
        _cleanup_free_ int *fds = calloc(n, sizeof(int));
        _cleanup_free_ const char **names = calloc(n, sizeof(char *));
        _cleanup_free_ char *labels = calloc(n, LABEL);
        int r;
        if (!fds || !names || !labels)
                return roost_error_set(e, -ENOMEM, "%s:%s", ref->name, ref->tag);
        for (; opened < n; opened++) {
                if ((fds[opened] = store_blob_open(s, ref->layers[opened].digest)) < 0)
                        break;
                char *label = labels + opened * LABEL;
                snprintf(label, LABEL, n == 1 ? "%s:%s" : "%s:%s layer %zu", ref->name, ref->tag, opened + 1);
                names[opened] = label;
        }
        if (opened < n)
                r = -ENOENT;
        else
                r = n == 1 ? unpack_fd(fds[0], names[0], arg_to, o, e) : unpack_layers(fds, names, n, arg_to, o, e);
        while (opened > 0)
                close(fds[--opened]);
        return r;
}

/* TAG NULL: a bare name, the newest image of NAME in the store
 * (store_ref_resolve). */
static int image(const char *name, const char *tag, struct unpack_options *o, struct progress *p)
{
        _cleanup_free_ char *root = NULL, *path = NULL;
        roost_error e = { "" };
        char want[300];
        snprintf(want, sizeof(want), "%s%s%s", name, tag ? ":" : "", tag ? tag : "");
        int r = store_default_root(arg_store, &root);
        if (r < 0) {
                cli_error("finding the store: %s", roost_strerror(r));
                return roost_exit_code(r);
        }
        const char *arch = arg_arch ? arg_arch : host_alpine_arch();
        if (!arch || !store_arch_valid(arch)) {
                cli_error("'%s' is not an architecture name", arch ? arch : "(unknown)");
                return EXIT_USAGE;
        }
        _cleanup_store_ store *s = NULL;
        r = store_open(root, STORE_NO_CREATE | STORE_READ, &s);
        if (r == -ENOENT) {
                cli_error("%s (%s) is not in the store %s; run 'pull %s' first", want, arch, root, want);
                return EXIT_NOTFOUND;
        }
        if (r < 0) {
                cli_error("opening the store %s: %s", root, roost_strerror(r));
                return EXIT_STORE;
        }
        _cleanup_store_ref_ struct store_ref ref = { 0 };
        r = store_ref_resolve(s, name, tag, arch, &ref);
        if (r < 0) {
                if (r == -ROOST_ENOTFOUND)
                        cli_error("%s (%s) is not in the store; run 'pull %s' first", want, arch, want);
                else
                        cli_error("reading %s (%s): %s", want, arch, roost_strerror(r));
                return roost_exit_code(r);
        }
        name = ref.name;
        tag = ref.tag;
        if (ref.n_layers == 0) {
                cli_error("%s:%s (%s) has no layers: there is nothing to unpack", name, tag, arch);
                return EXIT_ARCHIVE;
        }
        if (arg_to) {
                r = unpack_to(s, &ref, o, &e);
                end_progress(p);
                if (r == -ENOENT) {
                        cli_error("%s:%s: its archive is missing from the store; run 'pull %s:%s' again",
                                  name, tag, name, tag);
                        return EXIT_NOTFOUND;
                }
                if (r < 0) {
                        cli_error("%s", e.msg);
                        return roost_exit_code(r);
                }
                if (!arg_quiet)
                        printf("exported %s:%s (%s) to %s\n", name, tag, arch, arg_to);
                return 0;
        }
        /* Each layer is a tree of its own, extracted once and shared by
         * every image that has it. */
        bool all = true, repaired = false, extracted = false;
        for (size_t i = 0; i < ref.n_layers; i++)
                all = all && store_tree_exists(s, ref.layers[i].digest);
        if (store_read_only(s) && !all) {
                cli_error("the store %s is read-only: unpacking %s:%s into it needs to write (unpack --to DIR "
                          "extracts it elsewhere)",
                          root, name, tag);
                return EXIT_STORE;
        }
        if (arg_force && store_read_only(s)) {
                cli_error("the store %s is read-only: repairing %s:%s needs to write", root, name, tag);
                return EXIT_STORE;
        }
        for (size_t i = 0; i < ref.n_layers && !store_read_only(s); i++) {
                const struct store_layer *l = &ref.layers[i];
                bool repair = arg_force && store_tree_exists(s, l->digest);
                /* A repair is only as good as its source. */
                if (repair && (r = store_blob_verify(s, l->digest, ref.n_layers == 1 ? ref.sha512 : NULL)) < 0) {
                        cli_error("%s:%s: its archive is %s too; remove the image (roost rm --prune %s:%s) and "
                                  "pull it again",
                                  name, tag, r == -ENOENT ? "missing" : "damaged", name, tag);
                        return r == -ENOENT ? EXIT_NOTFOUND : EXIT_VERIFY;
                }
                r = repair ? unpack_image_repair(s, l->digest, o, &e) : unpack_image(s, l->digest, o, &e);
                if (r < 0) {
                        end_progress(p);
                        cli_error("unpacking %s:%s: %s", name, tag, e.msg);
                        return r == -EBUSY ? EXIT_FAIL : roost_exit_code(r);
                }
                repaired = repaired || repair;
                extracted = extracted || (!repair && r == 0);
        }
        end_progress(p);
        if (!arg_quiet && store_tree_path(s, ref.layers[ref.n_layers - 1].digest, &path) == 0)
                printf(repaired     ? "repaired %s:%s (%s): extracted again from its archive into %s\n"
                       : !extracted ? "%s:%s (%s) is already unpacked at %s (--force extracts it again)\n"
                                    : "unpacked %s:%s (%s) into %s\n",
                       name, tag, arch, path);
        return 0;
}

/* unpack FILE... DIR: an image's layers, bottom first, flattened. */
static int layers(char **files, size_t n, const char *dir, struct unpack_options *o, struct progress *p)
{
        _cleanup_free_ int *fds = calloc(n, sizeof(*fds));
        if (!fds) {
                cli_error("%s", roost_strerror(-ENOMEM));
                return EXIT_FAIL;
        }
        int r = 0;
        size_t opened = 0;
        for (; opened < n; opened++) {
                struct stat st;
                if (strcmp(files[opened], "-") == 0) {
                        cli_error("\"-\" (standard input) is one archive, not one of several layers");
                        r = EXIT_USAGE;
                        goto out;
                }
                fds[opened] = open(files[opened], O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fds[opened] < 0) {
                        r = errno == ENOENT ? EXIT_NOTFOUND : EXIT_FAIL;
                        cli_error("opening %s: %s", files[opened], strerror(errno));
                        goto out;
                }
                if (fstat(fds[opened], &st) == 0 && S_ISDIR(st.st_mode)) {
                        cli_error("%s is a directory, not an archive", files[opened]);
                        opened++;
                        r = EXIT_USAGE;
                        goto out;
                }
        }
        roost_error e = { "" };
        r = unpack_layers(fds, (const char *const *)files, n, dir, o, &e);
        end_progress(p);
        if (r < 0) {
                cli_error("%s", e.msg);
                r = roost_exit_code(r);
                goto out;
        }
        if (!arg_quiet)
                printf("unpacked %zu layers into %s\n", n, dir);
out:
        for (size_t i = 0; i < opened; i++)
                close(fds[i]);
        return r;
}

int main(int argc, char **argv)
{
        store_enable_migration();
        opts_parser op;
        int c;
        opts_init(&op, &spec, argc, argv);
        while ((c = opts_next(&op)) != 0) {
                switch (c) {
                case OPT_STORE:
                        arg_store = op.arg;
                        break;
                case OPT_ARCH:
                        arg_arch = op.arg;
                        break;
                case OPT_TO:
                        arg_to = op.arg;
                        break;
                case OPT_MAX_SIZE:
                        if (parse_size(op.arg, &arg_max_bytes) < 0) {
                                cli_error("--max-size: '%s' is not a size (e.g. 512M, 2G)", op.arg);
                                return EXIT_USAGE;
                        }
                        break;
                case OPT_MAX_ENTRIES: {
                        char *end;
                        errno = 0;
                        arg_max_entries = strtoull(op.arg, &end, 10);
                        if (errno || *end || !arg_max_entries || *op.arg == '-') {
                                cli_error("--max-entries: '%s' is not a positive number", op.arg);
                                return EXIT_USAGE;
                        }
                        break;
                }
                case OPT_KEEP_DEVICES:
                        arg_keep_devices = true;
                        break;
                case OPT_KEEP_SETID:
                        arg_keep_setid = true;
                        break;
                case OPT_FORCE:
                        arg_force = true;
                        break;
                case 'q':
                        arg_quiet = true;
                        break;
                case 'h':
                        opts_help(&spec);
                        return 0;
                case OPT_VERSION:
                        cli_version();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        }
        int n = op.n_operands;
        char **args = op.operands;
        struct progress p = { .on = !arg_quiet && cli_is_tty(STDERR_FILENO) };
        struct unpack_options o = {
                .max_bytes = arg_max_bytes,
                .max_entries = arg_max_entries,
                .progress = p.on ? show_progress : NULL,
                .userdata = &p,
                .warn = show_warning,
                .keep_devices = arg_keep_devices,
                .keep_setid = arg_keep_setid,
        };
        if (n >= 3 && !arg_to)
                return layers(args, (size_t)n - 1, args[n - 1], &o, &p);
        struct stat st;
        /* Two arguments are FILE DIR when the first is "-", an existing
         * file or a path; NAME TAG otherwise. */
        bool file = n == 2 && !arg_to &&
                    (strcmp(args[0], "-") == 0 || strchr(args[0], '/') ||
                     (stat(args[0], &st) == 0 && !S_ISDIR(st.st_mode)));
        if (n == 2 && !file && !(store_ref_name_valid(args[0]) && store_ref_tag_valid(args[1]))) {
                if (stat(args[0], &st) < 0) {
                        cli_error("%s: no such file, and not an image name and tag", args[0]);
                        return EXIT_NOTFOUND;
                }
                cli_error("%s is a directory, not an archive", args[0]);
                return EXIT_USAGE;
        }
        if (file) {
                roost_error e = { "" };
                int r = unpack_file(args[0], args[1], &o, &e);
                end_progress(&p);
                if (r < 0) {
                        cli_error("%s", e.msg);
                        return roost_exit_code(r);
                }
                if (!arg_quiet)
                        printf("unpacked %s into %s\n",
                               strcmp(args[0], "-") == 0 ? "standard input" : args[0], args[1]);
                return 0;
        }
        if (n < 1 || n > 2) {
                cli_error("expected an image (NAME[:TAG]) or FILE DIR; try 'unpack --help'");
                return EXIT_USAGE;
        }
        _cleanup_free_ char *name = NULL, *tag = NULL;
        int r = n == 2 ? ((name = strdup(args[0])) && (tag = strdup(args[1])) ? 0 : -ENOMEM)
                       : store_ref_parse(args[0], NULL, &name, &tag);
        if (r < 0 || !store_ref_name_valid(name) || (tag && !store_ref_tag_valid(tag))) {
                cli_error("'%s' is not an image reference (NAME[:TAG], e.g. alpine:3.20)", args[0]);
                return EXIT_USAGE;
        }
        return image(name, tag, &o, &p);
}
