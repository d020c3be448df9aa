/* roost commit, containers, tag and inspect: named containers become
 * images (commit/), and images are named and looked into. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "commit/commit.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/util.h"
#include "front/roost-cli.h"
#include "launch/sandbox.h"
#include "unpack/unpack.h"

enum {
        OPT_CHANGE = 512,
        OPT_MESSAGE = 'm',
};

/* What the child of write_layer_mapped sends back. */
struct layer_answer {
        int r;
        struct commit_layer layer;
        roost_error e;
};

/* Without root, the layer holds files of the user namespace's other ids,
 * which the caller may not read, and their owners as the host sees them:
 * the layer is written from a user namespace mapped as launch's was, where
 * every file is readable and owned as the container saw it. */
static int write_layer_mapped(store *s, int upperfd, struct commit_layer *ret, roost_error *e)
{
        int up[2] = { -1, -1 }, go[2] = { -1, -1 }, r;
        struct layer_answer ans = { 0 };
        pid_t pid = -1;
        if (pipe2(up, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
                r = roost_error_set(e, -errno, "starting the layer's writer");
                goto out;
        }
        if (pid == 0) {
                char c;
                close(up[0]);
                close(go[1]);
                r = unshare(CLONE_NEWUSER) < 0 ? -errno : 0;
                if (write(up[1], &r, sizeof(r)) != sizeof(r) || r < 0 || read(go[0], &c, 1) != 1)
                        _exit(1);
                ans.r = commit_layer_write(s, upperfd, &ans.layer, &ans.e);
                _exit(write(up[1], &ans, sizeof(ans)) == sizeof(ans) ? 0 : 1);
        }
        close(up[1]), up[1] = -1;
        close(go[0]), go[0] = -1;
        if (read(up[0], &r, sizeof(r)) != sizeof(r))
                r = roost_error_set(e, -EIO, "starting the layer's writer");
        else if (r < 0)
                roost_error_set(e, r, "a user namespace for the layer's writer");
        else if ((r = userns_map(pid, e)) < 0)
                ;
        else if (write(go[1], "1", 1) != 1)
                r = roost_error_set(e, -EIO, "starting the layer's writer");
        close(go[1]), go[1] = -1;
        if (r == 0) {
                if (read(up[0], &ans, sizeof(ans)) != sizeof(ans))
                        r = roost_error_set(e, -EIO, "the layer's writer died");
                else if ((r = ans.r) < 0)
                        *e = ans.e;
                else
                        *ret = ans.layer;
        }
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
        return r;
}

static void unpack_warn(void *userdata, const char *msg)
{
        (void)userdata;
        cli_warn("commit: unpacking the new layer: %s", msg);
}

int cmd_commit(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { OPT_CHANGE, 0, "change", "'INSTR ARGS'",
                  "CMD, ENTRYPOINT, ENV, LABEL, USER or WORKDIR, as a\nDockerfile says it (repeatable)" },
                { OPT_MESSAGE, 'm', "message", "MSG", "a comment for the new history entry" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost commit",
                .usage = "[OPTIONS] CONTAINER IMAGE[:TAG]",
                .about = "Make an image of a named container (launch --name): the image it was made\n"
                         "from, its configuration changed as --change says, with the container's layer\n"
                         "on top (OCI whiteouts for what it deleted). Only the new layer is stored.\n"
                         "A running container is refused. TAG defaults to latest.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = "Exit status: 0 done, 1 other failure (a running container), 2 usage, 3 no\n"
                          "such container or image, 6 the store. See roost(1).",
        };
        struct roost_args a = *args;
        _cleanup_free_ char **changes = calloc((size_t)argc + 1, sizeof(char *));
        size_t n_changes = 0;
        const char *message = NULL;
        opts_parser p;
        int id, r;
        if (!changes)
                return EXIT_FAIL;
        opts_init(&p, &spec, argc, argv);
        while ((id = opts_next(&p)) != 0) {
                switch (id) {
                case -1:
                        return EXIT_USAGE;
                case OPT_CHANGE:
                        changes[n_changes++] = (char *)p.arg;
                        break;
                case OPT_MESSAGE:
                        message = p.arg;
                        break;
                case ROOST_OPT_HELP:
                        opts_help(&spec);
                        return 0;
                default:
                        if ((r = roost_global_opt(&a, id, p.arg)))
                                return r;
                }
        }
        if (p.n_operands != 2) {
                cli_error("commit: expected CONTAINER IMAGE[:TAG], e.g. roost commit ci ci-base:1");
                return EXIT_USAGE;
        }
        const char *cname = p.operands[0];
        _cleanup_free_ char *name = NULL, *tag = NULL;
        if (store_ref_parse(p.operands[1], "latest", &name, &tag) < 0) {
                cli_error("commit: '%s' is not a valid IMAGE[:TAG]", p.operands[1]);
                return EXIT_USAGE;
        }
        if (!store_ref_name_valid(cname)) {
                cli_error("commit: '%s' is not a container name (lowercase letters, digits, '.', '_', '-')", cname);
                return EXIT_USAGE;
        }
        /* The changes are checked before anything is written. */
        roost_error e = { "" };
        _cleanup_free_ char *probe = NULL;
        if (commit_config_derive("{\"rootfs\":{\"diff_ids\":[]}}", changes, n_changes, message,
                                 "0000000000000000000000000000000000000000000000000000000000000000", 1, &probe,
                                 &e) < 0) {
                cli_error("commit: %s", e.msg);
                return EXIT_USAGE;
        }
        store *s;
        if ((r = roost_open_store(&a, 0, &s)))
                return r;
        struct commit_container c;
        struct commit_layer layer;
        char digest[STORE_SHA256_HEX + 1];
        const struct commit_options o = { .changes = changes, .n_changes = n_changes, .message = message };
        r = commit_container_open(s, cname, &c, &e);
        if (r < 0) {
                cli_error("commit: %s", e.msg);
                store_close(s);
                return r == -EBUSY ? EXIT_FAIL : roost_exit_code(r);
        }
        if (!c.origin.digest) {
                /* Refused before the layer is written: a --rootfs tree is
                 * not stored, so no image could name it below the layer. */
                cli_error("commit: container %s was made over --rootfs %s, not from a recorded image: there is "
                          "no image to commit its changes on top of",
                          cname, c.origin.rootfs ? c.origin.rootfs : "?");
                commit_container_done(&c);
                store_close(s);
                return EXIT_USAGE;
        }
        struct timespec t0, t1, t2;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = geteuid() == 0 ? commit_layer_write(s, c.upperfd, &layer, &e)
                           : write_layer_mapped(s, c.upperfd, &layer, &e);
        if (r >= 0)
                r = commit_image(s, &c.origin, &layer, &o, name, tag, digest, &e);
        commit_container_done(&c);
        if (r < 0) {
                cli_error("commit: container %s: %s", cname, e.msg);
                store_close(s);
                return roost_exit_code(r);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        /* Unpacked now, like any layer, so that the image launches at once. */
        struct unpack_options uo = { .warn = unpack_warn };
        if ((r = unpack_image(s, layer.digest, &uo, &e)) < 0)
                cli_warn("commit: %s:%s is stored, but unpacking its new layer failed (%s); run roost unpack %s:%s",
                         name, tag, e.msg, name, tag);
        clock_gettime(CLOCK_MONOTONIC, &t2);
        if (!a.quiet && r >= 0)
                printf("%s:%s sha256:%s (layer %.12s: %llu bytes, %llu entries, %llu whiteouts, %llu opaque; "
                       "written in %.3f s, unpacked in %.3f s)\n",
                       name, tag, digest, layer.digest, (unsigned long long)layer.size,
                       (unsigned long long)layer.entries, (unsigned long long)layer.whiteouts,
                       (unsigned long long)layer.opaques,
                       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                       (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9);
        store_close(s);
        /* The image is stored whole; what failed is its tree, for the
         * reason's own code: a full disk is 6, a hostile layer 7. */
        return r < 0 ? roost_exit_code(r) : 0;
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

int cmd_containers(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { ROOST_OPT_JSON, 0, "json", NULL, "an array of objects, as JSON" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost containers",
                .usage = "[OPTIONS]",
                .about = "List the named containers (launch --name): name, the image each was made\n"
                         "from (or its --rootfs), whether a launch runs it, the size of its layer and\n"
                         "when it was last launched.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args a = *args;
        int r = roost_parse(argc, argv, &a, &spec);
        if (r)
                return r;
        if (a.n_operands) {
                cli_error("containers: takes no operands, got '%s'", a.operands[0]);
                return EXIT_USAGE;
        }
        store *s;
        if ((r = roost_open_store(&a, STORE_READ, &s)))
                return r;
        char **names;
        size_t n;
        if ((r = store_container_list(s, &names, &n)) < 0) {
                cli_error("containers: listing: %s", roost_strerror(r));
                store_close(s);
                return EXIT_STORE;
        }
        json_t *arr = a.json ? json_array() : NULL;
        if (!a.json && !a.quiet)
                printf("%-20s %-28s %-12s %-8s %10s  %s\n", "NAME", "IMAGE", "ID", "STATUS", "SIZE", "LAST USED");
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int dfd = store_container_dirfd(s, names[i]);
                struct commit_origin o = { 0 };
                struct stat st = { 0 };
                uint64_t size = 0;
                if (dfd < 0)
                        continue; /* removed meanwhile */
                bool known = commit_origin_read(dfd, &o) == 0;
                bool running = store_container_in_use(s, names[i]);
                (void)fstatat(dfd, "lock", &st, AT_SYMLINK_NOFOLLOW);
                _cleanup_close_ int upper = openat(dfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (upper >= 0)
                        size = commit_tree_usage(upper);
                char when[32] = "-";
                if (st.st_mtime) {
                        struct tm tm;
                        strftime(when, sizeof(when), a.json ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC",
                                 gmtime_r(&st.st_mtime, &tm));
                }
                if (a.json) {
                        json_t *c = json_pack("{s:s, s:b, s:I}", "name", names[i], "running", running, "size",
                                              (json_int_t)size);
                        if (o.digest) {
                                json_object_set_new(c, "image", json_string(o.ref));
                                json_object_set_new(c, "id", json_sprintf("sha256:%s", o.digest));
                                json_object_set_new(c, "arch", json_string(o.arch));
                        } else if (o.rootfs)
                                json_object_set_new(c, "rootfs", json_string(o.rootfs));
                        if (st.st_mtime)
                                json_object_set_new(c, "last_used", json_string(when));
                        json_array_append_new(arr, c);
                } else if (a.quiet)
                        printf("%s\n", names[i]);
                else {
                        char hs[32], image[300];
                        human_size(size, hs, sizeof(hs));
                        snprintf(image, sizeof(image), "%s%s", o.digest ? "" : o.rootfs ? "--rootfs " : "",
                                 o.digest ? o.ref : o.rootfs ? o.rootfs : (known ? "-" : "?"));
                        printf("%-20s %-28s %-12.12s %-8s %10s  %s\n", names[i], image, o.digest ? o.digest : "-",
                               running ? "running" : "stopped", hs, when);
                }
                commit_origin_done(&o);
        }
        if (a.json) {
                char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (text)
                        printf("%s\n", text);
                free(text);
                json_decref(arr);
        }
        strv_free(names);
        store_close(s);
        return 0;
}

int cmd_tag(struct roost_args *args, int argc, char **argv)
{
        static const struct opts_spec spec = {
                .prog = "roost tag",
                .usage = "[OPTIONS] IMAGE[:TAG] NEW[:TAG]",
                .about = "Give a stored image another name: NEW:TAG (TAG defaults to latest) names the\n"
                         "same image, with the same provenance. An existing NEW:TAG is moved.",
                .opts = roost_help_only,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args a = *args;
        int r = roost_parse(argc, argv, &a, &spec);
        if (r)
                return r;
        if (a.n_operands != 2) {
                cli_error("tag: expected IMAGE NEW[:TAG], e.g. roost tag alpine:3.20 base:1");
                return EXIT_USAGE;
        }
        _cleanup_free_ char *name = NULL, *tag = NULL;
        if (store_ref_parse(a.operands[1], "latest", &name, &tag) < 0) {
                cli_error("tag: '%s' is not a valid NAME[:TAG]", a.operands[1]);
                return EXIT_USAGE;
        }
        store *s;
        if ((r = roost_open_store(&a, 0, &s)))
                return r;
        struct store_ref ref = { 0 };
        if ((r = roost_read_ref(s, &a, a.operands[0], &ref)) < 0) {
                cli_error("tag: %s: %s", a.operands[0],
                          r == -ROOST_ENOTFOUND ? "no such image in the store" : roost_strerror(r));
                store_close(s);
                return roost_exit_code(r);
        }
        char *old_name = ref.name, *old_tag = ref.tag;
        ref.name = name;
        ref.tag = tag;
        r = store_ref_write(s, &ref);
        ref.name = old_name;
        ref.tag = old_tag;
        if (r < 0)
                cli_error("tag: %s:%s: %s", name, tag, roost_strerror(r));
        else if (!a.quiet)
                printf("%s:%s is %s:%s (%.12s)\n", name, tag, ref.name, ref.tag, ref.digest);
        store_ref_done(&ref);
        store_close(s);
        return r < 0 ? EXIT_STORE : 0;
}

/* The JSON document of blob HEX, or NULL. */
static json_t *blob_json(store *s, const char *hex)
{
        _cleanup_free_ char *text = NULL;
        if (store_blob_read(s, hex, 4 << 20, &text, NULL) < 0)
                return NULL;
        return json_loads(text, 0, NULL);
}

/* docker image inspect's document, as far as an OCI image has it, plus
 * the layers' digests and the store's provenance. */
static json_t *inspect_one(store *s, const struct store_ref *ref, const struct store_ref *all, size_t n_all)
{
        json_t *cfg = blob_json(s, ref->config), *man = blob_json(s, ref->digest);
        json_t *index = ref->index ? blob_json(s, ref->index) : NULL;
        json_t *o = NULL, *tags = json_array(), *layers = json_array(), *prov = json_object();
        if (!json_is_object(cfg) || !json_is_object(man) || !tags || !layers || !prov)
                goto out;
        for (size_t i = 0; i < n_all; i++)
                if (!strcmp(all[i].digest, ref->digest))
                        json_array_append_new(tags, json_sprintf("%s:%s", all[i].name, all[i].tag));
        json_t *diff = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        for (size_t i = 0; i < ref->n_layers; i++)
                json_array_append_new(layers,
                                      json_pack("{s:s, s:s+, s:O?, s:I}", "MediaType", ref->layers[i].media_type,
                                                "Digest", "sha256:", ref->layers[i].digest, "DiffID",
                                                json_array_get(diff, i), "Size", (json_int_t)ref->layers[i].size));
        /* The store's own record of where it came from: the annotations of
         * its entry in the reference's index. */
        json_t *m;
        size_t k;
        json_array_foreach(json_object_get(index, "manifests"), k, m)
        {
                const char *d = json_string_value(json_object_get(m, "digest"));
                if (d && !strncmp(d, "sha256:", 7) && !strcmp(d + 7, ref->digest)) {
                        json_object_update(prov, json_object_get(m, "annotations"));
                        break;
                }
        }
        o = json_object();
        json_object_set_new(o, "Id", json_sprintf("sha256:%s", ref->digest));
        json_object_set_new(o, "RepoTags", tags), tags = NULL;
        json_object_set_new(o, "ConfigDigest", json_sprintf("sha256:%s", ref->config));
        json_object_set(o, "Created", json_object_get(cfg, "created") ?: json_null());
        json_object_set(o, "Architecture", json_object_get(cfg, "architecture") ?: json_null());
        if (json_object_get(cfg, "variant"))
                json_object_set(o, "Variant", json_object_get(cfg, "variant"));
        json_object_set(o, "Os", json_object_get(cfg, "os") ?: json_null());
        json_object_set_new(o, "Config", json_incref(json_object_get(cfg, "config")) ?: json_object());
        json_object_set_new(o, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", json_incref(diff) ?: json_array()));
        json_object_set_new(o, "History", json_incref(json_object_get(cfg, "history")) ?: json_array());
        json_object_set_new(o, "Size", json_integer((json_int_t)ref->size));
        json_object_set_new(o, "Layers", layers), layers = NULL;
        json_object_set_new(o, "Annotations", json_incref(json_object_get(man, "annotations")) ?: json_object());
        json_object_set_new(o, "Provenance", prov), prov = NULL;
out:
        json_decref(cfg);
        json_decref(man);
        json_decref(index);
        json_decref(tags);
        json_decref(layers);
        json_decref(prov);
        return o;
}

int cmd_inspect(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { ROOST_OPT_JSON, 0, "json", NULL, "the same JSON (it is the only form)" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost inspect",
                .usage = "[OPTIONS] IMAGE[:TAG]...",
                .about = "Print what the store knows of each image as a JSON array, as docker image\n"
                         "inspect does: its id (the manifest's digest), the references that name it,\n"
                         "the config (Config, History, RootFS, platform), each layer's digest, diff_id\n"
                         "and size, the manifest's annotations, and the store's provenance.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args a = *args;
        int r = roost_parse(argc, argv, &a, &spec);
        if (r)
                return r;
        if (!a.n_operands) {
                cli_error("inspect: name at least one image, e.g. roost inspect alpine:3.20");
                return EXIT_USAGE;
        }
        store *s;
        if ((r = roost_open_store(&a, STORE_READ, &s)))
                return r;
        struct store_ref *all = NULL;
        size_t n_all = 0;
        (void)store_ref_list(s, &all, &n_all, NULL);
        json_t *arr = json_array();
        int ret = 0;
        for (int i = 0; i < a.n_operands; i++) {
                struct store_ref ref = { 0 };
                if ((r = roost_read_ref(s, &a, a.operands[i], &ref)) < 0) {
                        cli_error("inspect: %s: %s", a.operands[i],
                                  r == -ROOST_ENOTFOUND ? "no such image in the store" : roost_strerror(r));
                        ret = ret ?: roost_exit_code(r);
                        continue;
                }
                json_t *o = inspect_one(s, &ref, all, n_all);
                if (o)
                        json_array_append_new(arr, o);
                else {
                        cli_error("inspect: %s: its config or manifest cannot be read; roost verify says more",
                                  a.operands[i]);
                        ret = ret ?: EXIT_VERIFY;
                }
                store_ref_done(&ref);
        }
        char *text = json_dumps(arr, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        if (text)
                printf("%s\n", text);
        free(text);
        json_decref(arr);
        store_ref_list_free(all, n_all);
        store_close(s);
        return ret;
}
