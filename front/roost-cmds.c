/* roost images, rm, gc: the store as users see it; the options every
 * store command shares. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/util.h"
#include "front/roost-cli.h"
#include "launch/sandbox.h"

const struct opt roost_global_opts[] = {
        { ROOST_OPT_STORE, 0, "store", "DIR",
          "the store (default: $ROOST_STORE, /var/lib/roost\nfor root, else ~/.local/share/roost)" },
        { ROOST_OPT_ARCH, 0, "arch", "ARCH", "the images' architecture (default: the host's)" },
        { ROOST_OPT_QUIET, 'q', "quiet", NULL, "print nothing but errors (images: references only)" },
        {},
};

const struct opt roost_help_only[] = {
        ROOST_OPT_HELP_ENTRY,
        {},
};

int roost_global_opt(struct roost_args *a, int id, const char *arg)
{
        switch (id) {
        case ROOST_OPT_STORE:
                a->store = arg;
                return 0;
        case ROOST_OPT_ARCH:
                if (!store_arch_valid(arg)) {
                        cli_error("invalid --arch '%s'", arg);
                        return EXIT_USAGE;
                }
                a->arch = arg;
                a->arch_given = true;
                return 0;
        case ROOST_OPT_QUIET:
                a->quiet = true;
                return 0;
        }
        return EXIT_USAGE;
}

int roost_parse(int argc, char **argv, struct roost_args *a, const struct opts_spec *spec)
{
        opts_parser p;
        int id, r;
        opts_init(&p, spec, argc, argv);
        while ((id = opts_next(&p)) != 0) {
                switch (id) {
                case -1:
                        return EXIT_USAGE;
                case ROOST_OPT_JSON:
                        a->json = true;
                        break;
                case ROOST_OPT_PRUNE:
                        a->prune = true;
                        break;
                case ROOST_OPT_CONTAINER:
                        a->containers = true;
                        break;
                case ROOST_OPT_FORMAT:
                        a->format = p.arg;
                        break;
                case ROOST_OPT_TRUST: {
                        /* The command frees it. */
                        const char **t = realloc(a->trust, (a->n_trust + 1) * sizeof(*t));
                        if (!t) {
                                cli_error("%s", strerror(ENOMEM));
                                return EXIT_FAIL;
                        }
                        t[a->n_trust++] = p.arg;
                        a->trust = t;
                        break;
                }
                case ROOST_OPT_HELP:
                        opts_help(spec);
                        exit(0);
                default:
                        if ((r = roost_global_opt(a, id, p.arg)))
                                return r;
                }
        }
        a->operands = p.operands;
        a->n_operands = p.n_operands;
        if (!a->arch)
                a->arch = host_alpine_arch();
        if (!a->arch) {
                cli_error("%s: this machine's architecture has no Alpine build; use --arch", argv[0]);
                return EXIT_USAGE;
        }
        return 0;
}

/* images and gc take no operands: "roost gc alpine" must not collect the
 * whole store when the user meant something else. */
static int no_operands(const struct roost_args *a, const char *cmd)
{
        if (!a->n_operands)
                return 0;
        cli_error("%s: takes no operands, got '%s'; try 'roost %s --help'", cmd, a->operands[0], cmd);
        return EXIT_USAGE;
}

int roost_open_store(const struct roost_args *a, unsigned flags, store **ret)
{
        _cleanup_free_ char *root = NULL;
        int r = store_default_root(a->store, &root);
        if (r < 0) {
                cli_error("cannot find the store: %s; use --store DIR", roost_strerror(r));
                return EXIT_STORE;
        }
        r = store_open(root, flags, ret);
        if (r == -EROFS || (r == -EACCES && !(flags & STORE_READ))) {
                cli_error("the store %s is %s: this command writes to it (images, verify and export "
                          "only read)",
                          root, r == -EROFS ? "read-only" : "not writable by this user");
                return EXIT_STORE;
        }
        if (r < 0) {
                cli_error("opening the store %s: %s", root, roost_strerror(r));
                return EXIT_STORE;
        }
        return 0;
}

int roost_read_ref(store *s, const struct roost_args *a, const char *text, struct store_ref *ret)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        int r = store_ref_parse(text, NULL, &name, &tag);
        if (r < 0)
                return r;
        return store_ref_resolve(s, name, tag, a->arch, ret);
}

static void human_size(uint64_t n, char *buf, size_t len)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double)n;
        size_t u = 0;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* How many other images (other manifests: two tags of one image are one
 * image) have REF's layer J too. Its bytes are stored once for all. */
static bool ref_has_layer(const struct store_ref *ref, const char *digest)
{
        for (size_t l = 0; l < ref->n_layers; l++)
                if (!strcmp(ref->layers[l].digest, digest))
                        return true;
        return false;
}

static size_t layer_users(const struct store_ref *refs, size_t n, const struct store_ref *ref, size_t j)
{
        size_t users = 0;
        for (size_t i = 0; i < n; i++) {
                const struct store_ref *o = &refs[i];
                bool seen = !strcmp(o->digest, ref->digest);
                for (size_t k = 0; k < i && !seen; k++)
                        seen = !strcmp(refs[k].digest, o->digest);
                users += !seen && ref_has_layer(o, ref->layers[j].digest);
        }
        return users;
}

int cmd_images(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { ROOST_OPT_JSON, 0, "json", NULL, "an array of the reference documents, as JSON" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost images",
                .usage = "[OPTIONS]",
                .about = "List the stored images: reference, release, architecture, size of the layers\n"
                         "(compressed), how much of it other images share, size of the unpacked\n"
                         "trees, when it was pulled or imported, the image's digest, and who signed it\n"
                         "(the key id of the signer pull checked; unsigned: let in with\n"
                         "--allow-unsigned; -: pulled before roost checked signatures).",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args a = *args;
        int r = roost_parse(argc, argv, &a, &spec);
        if (r || (r = no_operands(&a, "images")))
                return r;
        store *s;
        if ((r = roost_open_store(&a, STORE_READ, &s)))
                return r;
        struct store_ref *refs;
        _cleanup_free_ char *bad = NULL;
        size_t n;
        if ((r = store_ref_list(s, &refs, &n, &bad)) < 0) {
                cli_error("images: listing references: %s", roost_strerror(r));
                store_close(s);
                return EXIT_STORE;
        }
        if (bad)
                cli_warn("images: the reference %s cannot be read; remove it with roost rm", bad);
        json_t *arr = a.json ? json_array() : NULL;
        if (!a.json && !a.quiet)
                printf("%-24s %-10s %-8s %10s %10s %10s  %-20s %-12s  %s\n", "REFERENCE", "VERSION", "ARCH",
                       "SIZE", "SHARED", "UNPACKED", "PULLED", "DIGEST", "SIGNED BY");
        for (size_t i = 0; i < n; i++) {
                const struct store_ref *ref = &refs[i];
                uint64_t unpacked = 0, shared = 0;
                bool have_tree = ref->n_layers > 0;
                for (size_t j = 0; j < ref->n_layers; j++)
                        shared += layer_users(refs, n, ref, j) ? ref->layers[j].size : 0;
                for (size_t j = 0; j < ref->n_layers; j++) {
                        uint64_t u;
                        have_tree = have_tree && store_tree_usage(s, ref->layers[j].digest, &u) == 0;
                        unpacked += have_tree ? u : 0;
                }
                if (a.json) {
                        _cleanup_free_ char *text = NULL;
                        if (store_ref_to_json(ref, &text) == 0) {
                                json_t *o = json_loads(text, 0, NULL);
                                if (o) {
                                        json_object_set_new(o, "shared_size", json_integer((json_int_t)shared));
                                        json_t *ls = json_object_get(o, "layers");
                                        for (size_t j = 0; j < ref->n_layers && j < json_array_size(ls); j++)
                                                json_object_set_new(json_array_get(ls, j), "shared_with",
                                                                    json_integer((json_int_t)layer_users(refs, n, ref, j)));
                                        json_object_set_new(o, "unpacked", json_boolean(have_tree));
                                        if (have_tree)
                                                json_object_set_new(o, "unpacked_size",
                                                                    json_integer((json_int_t)unpacked));
                                        json_array_append_new(arr, o);
                                }
                        }
                        continue;
                }
                if (a.quiet) {
                        printf("%s:%s\n", ref->name, ref->tag);
                        continue;
                }
                char refname[300], size[32], ssize[32], usize[32] = "-", when[32];
                snprintf(refname, sizeof(refname), "%s:%s", ref->name, ref->tag);
                human_size(ref->size, size, sizeof(size));
                human_size(shared, ssize, sizeof(ssize));
                if (have_tree)
                        human_size(unpacked, usize, sizeof(usize));
                time_t t = (time_t)ref->created;
                struct tm tm;
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&t, &tm));
                /* The signer by its key id (the fingerprint's last 16 hex
                 * digits, as gpg shows it); --json has the whole. */
                const char *by = ref->signer && strlen(ref->signer) >= 16 ? ref->signer + strlen(ref->signer) - 16
                                 : ref->verdict ? "unsigned"
                                                : "-";
                printf("%-24s %-10s %-8s %10s %10s %10s  %-20s %-12.12s  %s\n", refname,
                       ref->version ? ref->version : "-", ref->arch, size, ssize, usize, when, ref->digest, by);
        }
        if (a.json) {
                char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (text)
                        printf("%s\n", text);
                free(text);
                json_decref(arr);
        }
        store_ref_list_free(refs, n);
        store_close(s);
        return 0;
}

static int run_gc(const struct roost_args *a, bool report)
{
        store *s;
        int r = roost_open_store(a, STORE_EXCLUSIVE, &s);
        if (r)
                return r;
        struct store_gc_report rep = { 0 };
        r = store_gc(s, &rep);
        store_close(s);
        if (r == -ROOST_EFORMAT && rep.unreadable[0]) {
                cli_error("gc: the reference %s cannot be read, and what it names would look unused; "
                          "nothing removed. Remove it with roost rm NAME:TAG",
                          rep.unreadable);
                return EXIT_STORE;
        }
        /* Containers whose launcher was killed leave their cgroups behind;
         * the ones below this shell's cgroup are found and removed. */
        int cg = cgroup_cleanup_stale();
        if (report && !a->quiet) {
                char freed[32];
                human_size(rep.bytes, freed, sizeof(freed));
                printf("removed %u blobs, %u trees, %u partial downloads, %u temporaries, %d cgroups; %u build "
                       "cache records; freed %s\n",
                       rep.blobs, rep.trees, rep.partials, rep.temporaries, cg > 0 ? cg : 0, rep.cache, freed);
        }
        if (r < 0) {
                cli_error("gc: %s (what could be removed was)", roost_strerror(r));
                return EXIT_STORE;
        }
        return 0;
}

int cmd_gc(struct roost_args *args, int argc, char **argv)
{
        static const struct opts_spec spec = {
                .prog = "roost gc",
                .usage = "[OPTIONS]",
                .about = "Remove what no reference needs: archives and trees no reference names and no\n"
                         "running container uses, partial downloads, dead temporaries, stale cgroups,\n"
                         "and build cache records whose image's layers no image uses any more.",
                .opts = roost_help_only,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args a = *args;
        int r = roost_parse(argc, argv, &a, &spec);
        if (r || (r = no_operands(&a, "gc")))
                return r;
        return run_gc(&a, true);
}

/* Without root, a layer holds files of the user namespace's other ids
 * (its subordinate ids), which only root of a namespace mapped as
 * launch's was may delete: remove it from such a namespace. */
static int remove_mapped(store *s, const char *name)
{
        /* up: the child's answers (unshared, then removed); go: mapped. */
        int up[2] = { -1, -1 }, go[2] = { -1, -1 }, r;
        pid_t pid = -1;
        if (pipe2(up, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
                r = -errno;
                goto out;
        }
        if (pid == 0) {
                char c;
                /* Ours are the other ends: a parent that gives up must
                 * leave this read at EOF. */
                close(up[0]);
                close(go[1]);
                r = unshare(CLONE_NEWUSER) < 0 ? -errno : 0;
                if (write(up[1], &r, sizeof(r)) != sizeof(r) || r < 0 || read(go[0], &c, 1) != 1)
                        _exit(1);
                r = store_container_remove(s, name);
                _exit(write(up[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
        }
        close(up[1]), up[1] = -1;
        close(go[0]), go[0] = -1;
        roost_error e = { "" };
        if (read(up[0], &r, sizeof(r)) != sizeof(r))
                r = -EIO;
        else if (r < 0 || userns_map(pid, &e) < 0)
                r = 1; /* no namespace, or no map: try as we are, which may do */
        else if (write(go[1], "1", 1) != 1)
                r = -EIO;
        close(go[1]), go[1] = -1;
        if (r == 0 && read(up[0], &r, sizeof(r)) != sizeof(r))
                r = -EIO;
out:
        for (int i = 0; i < 2; i++) {
                if (up[i] >= 0)
                        close(up[i]);
                if (go[i] >= 0)
                        close(go[i]);
        }
        if (pid > 0) {
                if (r < 0)
                        kill(pid, SIGKILL);
                (void)wait_exited_ok(pid);
        }
        return r == 1 ? store_container_remove(s, name) : r;
}

static int rm_containers(const struct roost_args *a, store *s, char **names, int n)
{
        int ret = 0;
        for (int i = 0; i < n; i++) {
                int r = -EINVAL;
                if (store_ref_name_valid(names[i]))
                        r = geteuid() == 0 ? store_container_remove(s, names[i]) : remove_mapped(s, names[i]);
                if (r == 0) {
                        if (!a->quiet)
                                printf("removed container %s\n", names[i]);
                        continue;
                }
                if (r == -EINVAL) {
                        cli_error(
                                "rm: '%s' is not a container name (lowercase letters, digits, '.', '_', '-')",
                                names[i]);
                        ret = ret ?: EXIT_USAGE;
                } else if (r == -ENOENT) {
                        cli_error("rm: no container %s in the store", names[i]);
                        ret = ret ?: EXIT_NOTFOUND;
                } else if (r == -EBUSY) {
                        cli_error("rm: container %s is in use by a launch; stop it first", names[i]);
                        ret = ret ?: EXIT_FAIL;
                } else {
                        cli_error("rm: container %s: %s", names[i], roost_strerror(r));
                        ret = ret ?: EXIT_STORE;
                }
        }
        return ret;
}

/* How many of REF's layers the store's other images still have, after
 * REF's removal: gc will keep them. 0 when the store cannot say. */
static size_t layers_kept(store *s, const struct store_ref *ref)
{
        struct store_ref *refs;
        size_t n, kept = 0;
        if (store_ref_list(s, &refs, &n, NULL) < 0)
                return 0;
        for (size_t j = 0; j < ref->n_layers; j++) {
                bool found = false;
                for (size_t i = 0; i < n && !found; i++)
                        found = ref_has_layer(&refs[i], ref->layers[j].digest);
                kept += found;
        }
        store_ref_list_free(refs, n);
        return kept;
}

/* Whether a reference other than REF (another name, tag or architecture)
 * holds the layer DIGEST. Unsure is no, with WHY saying what made it so
 * (the list that failed, or a reference that could not be read), for the
 * refusal's message. */
static bool layer_kept_by_other(store *s, const struct store_ref *ref, const char *digest, char *why,
                                size_t why_size)
{
        struct store_ref *refs;
        _cleanup_free_ char *bad = NULL;
        size_t n;
        bool kept = false;
        int r = store_ref_list(s, &refs, &n, &bad);
        if (r < 0) {
                snprintf(why, why_size, " (the references could not be listed: %s)", roost_strerror(r));
                return false;
        }
        for (size_t i = 0; i < n && !kept; i++)
                kept = (strcmp(refs[i].name, ref->name) || strcmp(refs[i].tag, ref->tag) ||
                        strcmp(refs[i].arch, ref->arch)) &&
                       ref_has_layer(&refs[i], digest);
        store_ref_list_free(refs, n);
        if (!kept && bad)
                snprintf(why, why_size, " (and %s, which might hold its layer, could not be read)", bad);
        return kept;
}

int cmd_rm(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { ROOST_OPT_PRUNE, 0, "prune", NULL, "remove what they held now, not at the next gc" },
                { ROOST_OPT_CONTAINER, 0, "container", NULL,
                  "the operands are container names (launch --name)" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost rm",
                .usage = "[OPTIONS] IMAGE[:TAG]...\n--container [OPTIONS] NAME...",
                .about = "Remove images' references (what they held goes with the next gc, or at once\n"
                         "with --prune), or with --container the writable layers of named containers.\n"
                         "What a running container uses is refused.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args a = *args;
        int r = roost_parse(argc, argv, &a, &spec);
        if (r)
                return r;
        if (!a.n_operands) {
                cli_error(a.containers ? "rm: name at least one container, e.g. roost rm --container web"
                                       : "rm: name at least one image, e.g. roost rm alpine:3.20");
                return EXIT_USAGE;
        }
        if (a.containers && a.prune) {
                cli_error("rm: --prune is for images; a container's layer goes at once");
                return EXIT_USAGE;
        }
        store *s;
        if ((r = roost_open_store(&a, 0, &s)))
                return r;
        if (a.containers) {
                r = rm_containers(&a, s, a.operands, a.n_operands);
                store_close(s);
                return r;
        }
        int ret = 0;
        for (int i = 0; i < a.n_operands; i++) {
                const char *text = a.operands[i];
                _cleanup_free_ char *name = NULL, *tag = NULL;
                struct store_ref *refs = NULL;
                size_t n = 0;
                r = store_ref_parse(text, NULL, &name, &tag);
                if (r == 0)
                        r = store_ref_match(s, name, tag, a.arch, &refs, &n);
                /* A reference that cannot be read keeps gc from running: it
                 * may go without the in-use check, since a running container
                 * marks its tree itself. */
                if ((r == -EFBIG || r == -ROOST_EFORMAT || r == -EINVAL || r == -EACCES) && tag &&
                    store_ref_remove(s, name, tag, a.arch) == 0) {
                        if (!a.quiet)
                                printf("removed %s:%s (%s), which could not be read\n", name, tag, a.arch);
                        continue;
                }
                if (r == 0 && n != 1)
                        r = n ? -ROOST_EUSAGE : -ROOST_ENOTFOUND;
                if (r == -ROOST_EUSAGE && n > 1) {
                        /* A bare name or a version that means more than one
                         * image removes none: which one is the user's to say. */
                        char list[1024];
                        size_t len = 0;
                        for (size_t k = 0; k < n && len < sizeof(list); k++)
                                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s:%s (%s)",
                                                        k ? ", " : "", refs[k].name, refs[k].tag,
                                                        refs[k].version ? refs[k].version : "-");
                        cli_error("rm: %s means %zu images for %s: %s; nothing removed, name one by its tag",
                                  text, n, a.arch, list);
                        store_ref_list_free(refs, n);
                        ret = ret ?: EXIT_USAGE;
                        continue;
                }
                if (r < 0) {
                        cli_error("rm: %s: %s", text,
                                  r == -ROOST_ENOTFOUND ? "no such image in the store" : roost_strerror(r));
                        ret = ret ?: roost_exit_code(r);
                        continue;
                }
                struct store_ref ref = refs[0];
                free(refs);
                /* Only a layer in use that no other reference keeps: a
                 * tag of an image that shares its layers with the one a
                 * container runs (an import, a tag, a commit of nothing)
                 * goes as docker untags it, since the layer stays. */
                bool in_use = false;
                char why[600] = "";
                for (size_t j = 0; j < ref.n_layers && !in_use; j++)
                        in_use = store_tree_in_use(s, ref.layers[j].digest) &&
                                 !layer_kept_by_other(s, &ref, ref.layers[j].digest, why, sizeof(why));
                if (in_use) {
                        cli_error("rm: %s:%s is used by a running container%s; stop it first", ref.name,
                                  ref.tag, why);
                        ret = ret ?: EXIT_FAIL;
                } else if ((r = store_ref_remove(s, ref.name, ref.tag, ref.arch)) < 0) {
                        cli_error("rm: %s: %s", text, roost_strerror(r));
                        ret = ret ?: EXIT_STORE;
                } else if (!a.quiet) {
                        size_t kept = layers_kept(s, &ref);
                        if (kept)
                                printf("removed %s:%s (%s); %zu of its %zu layers stay, other images have them\n",
                                       ref.name, ref.tag, ref.arch, kept, ref.n_layers);
                        else
                                printf("removed %s:%s (%s)\n", ref.name, ref.tag, ref.arch);
                }
                store_ref_done(&ref);
        }
        store_close(s);
        if (a.prune && (r = run_gc(&a, false)))
                ret = ret ?: r;
        return ret;
}
