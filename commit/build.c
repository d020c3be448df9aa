/* roost build: a Dockerfile's steps, each an image made from the one
 * before (docs/commit.md, "Build"). RUN runs in the parent's layers through
 * the launch tool (launch --name, so its isolation and hardening are
 * launch's own) and its container's upper directory becomes the layer;
 * COPY writes the context's files into a fresh upper directory of its own,
 * resolved against the image's layers, and that becomes the layer; the
 * other instructions change the config. Each step's image is recorded in
 * the store's build cache under a key of its parent and its instruction. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "commit/build-private.h"
#include "commit/commit.h"
#include "common/util.h"

/* The step's line: once whether it is cached is known, before its work. */
void build_announce(struct build *b, bool cached)
{
        if (b->o->step) {
                struct build_step_report rep = {
                        .index = b->index,
                        .total = b->o->total,
                        .text = b->text,
                        .cached = cached,
                };
                b->o->step(b->o->userdata, &rep);
        }
}

int64_t build_now(const struct build *b)
{
        return b->o->created ? b->o->created : (int64_t)time(NULL);
}

/* ---- the current image ---- */

static int image_set(struct build *b, const char *digest)
{
        struct store_ref img = { 0 };
        _cleanup_free_ char *config = NULL;
        int r = store_image_read(b->s, digest, &img);
        if (r < 0 || (r = store_blob_read(b->s, img.config, 4 << 20, &config, NULL)) < 0) {
                store_ref_done(&img);
                return roost_error_set(b->e, r, "reading the image %.12s", digest);
        }
        store_ref_done(&b->img);
        b->img = img;
        free(b->config);
        b->config = TAKE_PTR(config);
        memcpy(b->digest, digest, sizeof(b->digest));
        return 0;
}

/* The config's "config" member's string KEY, or NULL (a copy). */
char *build_config_string(const struct build *b, const char *key)
{
        json_t *c = json_loads(b->config, 0, NULL);
        const char *v = json_string_value(json_object_get(json_object_get(c, "config"), key));
        char *ret = v && *v ? strdup(v) : NULL;
        json_decref(c);
        return ret;
}

/* The variables a step sees: the ARGs in effect, then the config's Env
 * (ENV wins over ARG of the same name, as in docker). */
static char **step_vars(const struct build *b, size_t *ret_n)
{
        json_t *c = json_loads(b->config, 0, NULL);
        json_t *env = json_object_get(json_object_get(c, "config"), "Env");
        size_t n = 0, max = b->n_args + json_array_size(env) + 1;
        char **v = calloc(max, sizeof(*v));
        for (size_t i = 0; v && i < b->n_args; i++)
                if (!(v[n++] = strdup(b->args[i])))
                        goto oom;
        for (size_t i = 0; v && i < json_array_size(env); i++) {
                const char *s = json_string_value(json_array_get(env, i));
                if (s && strchr(s, '=') && !(v[n++] = strdup(s)))
                        goto oom;
        }
        json_decref(c);
        *ret_n = n;
        return v;
oom:
        json_decref(c);
        strv_free(v);
        return NULL;
}

/* ---- the cache ---- */

/* The key of a step: SHA-256 over the parent image, the instruction as it
 * reads with its variables expanded, the ARG values in effect (RUN sees
 * them in its environment) and, for COPY, what its sources hold. */
int build_step_key(const struct build *b, const char *text, const char *extra, char ret[STORE_SHA256_HEX + 1])
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char md[32];
        unsigned int mdlen = 0;
        bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
#define FEED(p, n) (ok = ok && EVP_DigestUpdate(ctx, p, n) == 1)
        FEED("roost-build 1\n", 14);
        FEED(b->digest, strlen(b->digest));
        FEED("\n", 1);
        FEED(text, strlen(text) + 1);
        for (size_t i = 0; i < b->n_args; i++)
                FEED(b->args[i], strlen(b->args[i]) + 1);
        if (extra)
                FEED(extra, strlen(extra));
#undef FEED
        ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return -ENOMEM;
        hex_encode(md, 32, ret);
        return 0;
}

/* A hit moves the build to the recorded image; 1 for a hit, 0 for none. */
int build_cache_try(struct build *b, const char *key)
{
        char digest[STORE_SHA256_HEX + 1];
        if (b->o->no_cache || store_cache_read(b->s, key, digest) < 0)
                return 0;
        /* Its layers' trees may have gone (gc keeps only used layers'
         * records; a tree is remade from its blob). */
        struct store_ref img = { 0 };
        if (store_image_read(b->s, digest, &img) < 0)
                return 0;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < img.n_layers; i++)
                if (!store_tree_exists(b->s, img.layers[i].digest))
                        r = b->o->unpack(b->o->userdata, img.layers[i].digest, b->e);
        store_ref_done(&img);
        if (r < 0)
                return r;
        return (r = image_set(b, digest)) < 0 ? r : 1;
}

/* The image of CONFIG, the current layers and LAYER (may be NULL) on top,
 * made the current one and recorded under KEY. */
int build_layer_tree(struct build *b, const struct commit_layer *layer, int parentfd, const char *name,
                     int upperfd)
{
        /* The upper directory is the tree the blob would unpack to, once
         * overlay's bookkeeping is gone: moved into the store rather than
         * extracted again (a RUN of 1,000 files: a second or so of file
         * creation saved). Where that cannot be, the blob is unpacked. */
        if (geteuid() == 0 && commit_upper_settle(upperfd) == 0 &&
            store_tree_adopt(b->s, layer->digest, parentfd, name) >= 0)
                return 0;
        return store_tree_exists(b->s, layer->digest) ? 0 : b->o->unpack(b->o->userdata, layer->digest, b->e);
}

int build_step_image(struct build *b, const char *config, const struct commit_layer *layer, const char *key)
{
        size_t n = b->img.n_layers + (layer ? 1 : 0);
        struct store_layer *layers = calloc(n + 1, sizeof(*layers));
        char digest[STORE_SHA256_HEX + 1];
        int r;
        if (!layers)
                return roost_error_set(b->e, -ENOMEM, "the step's image");
        memcpy(layers, b->img.layers, b->img.n_layers * sizeof(*layers));
        if (layer)
                layers[n - 1] = (struct store_layer){
                        .digest = (char *)layer->digest,
                        .diff_id = (char *)layer->diff_id,
                        .media_type = (char *)STORE_MEDIA_LAYER_GZIP,
                        .size = layer->size,
                };
        r = store_image_put_config(b->s, config, layers, n, NULL, digest);
        free(layers);
        if (r < 0)
                return roost_error_set(b->e, r, "storing the step's image");
        if (layer && !store_tree_exists(b->s, layer->digest) &&
            (r = b->o->unpack(b->o->userdata, layer->digest, b->e)) < 0)
                return r;
        if ((r = image_set(b, digest)) < 0)
                return r;
        if (key && (r = store_cache_write(b->s, key, digest)) < 0)
                return roost_error_set(b->e, r, "recording the step in the build cache");
        return 0;
}

/* ---- FROM ---- */

static int from_scratch(struct build *b)
{
        const char *arch = NULL, *variant = NULL;
        if (store_arch_to_platform(b->arch, &arch, &variant) < 0 || !arch)
                return roost_error_set(b->e, 0, "FROM scratch: no OCI platform for %s", b->arch),
                       -ROOST_EUSAGE;
        json_t *c = json_pack("{s:s, s:s, s:{s:[s]}, s:{s:s, s:[]}, s:s}", "architecture", arch, "os",
                              "linux", "config", "Env", "PATH=" STORE_DEFAULT_PATH, "rootfs", "type",
                              "layers", "diff_ids", "created", "1970-01-01T00:00:00Z");
        if (c && variant)
                json_object_set_new(c, "variant", json_string(variant));
        char *text = c ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(c);
        if (!text)
                return roost_error_set(b->e, -ENOMEM, "FROM scratch");
        char digest[STORE_SHA256_HEX + 1];
        /* The same empty image every time: its id is the chain's start. */
        int r = store_image_put_config(b->s, text, NULL, 0, NULL, digest);
        free(text);
        if (r < 0)
                return roost_error_set(b->e, r, "FROM scratch: storing the empty image");
        return image_set(b, digest);
}

static int from_image(struct build *b, const char *image)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        struct store_ref ref = { 0 };
        if (store_ref_parse(image, NULL, &name, &tag) < 0)
                return roost_error_set(b->e, 0, "FROM %s: not an image name", image), -ROOST_EUSAGE;
        int r = store_ref_resolve(b->s, name, tag, b->arch, &ref);
        if (r == -ROOST_ENOTFOUND) {
                /* As launch does on first use: pull it (and unpack). */
                if ((r = b->o->pull(b->o->userdata, image, b->e)) < 0)
                        return r;
                r = store_ref_resolve(b->s, name, tag, b->arch, &ref);
        }
        if (r < 0)
                return roost_error_set(b->e, r == -ROOST_ENOTFOUND ? 0 : r, "FROM %s%s", image,
                                       r == -ROOST_ENOTFOUND ? ": no such image in the store" : ""),
                       r;
        for (size_t i = 0; r >= 0 && i < ref.n_layers; i++)
                if (!store_tree_exists(b->s, ref.layers[i].digest))
                        r = b->o->unpack(b->o->userdata, ref.layers[i].digest, b->e);
        if (r >= 0)
                r = image_set(b, ref.digest);
        store_ref_done(&ref);
        return r;
}

/* ---- RUN ---- */

static int step_run(struct build *b, const struct dockerfile_step *st, char *const *vars, size_t n_vars,
                    const char *text)
{
        char key[STORE_SHA256_HEX + 1], cname[64];
        int r = build_step_key(b, text, NULL, key);
        if (r < 0 || (r = build_cache_try(b, key)) != 0) {
                if (r > 0)
                        build_announce(b, true);
                return r > 0 ? 0 : r;
        }
        build_announce(b, false);
        if (!b->img.n_layers)
                return roost_error_set(b->e, 0,
                                       "line %u: RUN in an image with no layers (FROM scratch): there is "
                                       "nothing to run",
                                       st->line),
                       -ROOST_EUSAGE;
        _cleanup_free_ char *workdir = build_config_string(b, "WorkingDir"),
                            *user = build_config_string(b, "User");
        size_t max = 16 + 2 * n_vars + 2 * b->img.n_layers + 8;
        for (char **a = st->argv; a && *a; a++)
                max++;
        _cleanup_free_ char **argv = calloc(max, sizeof(char *));
        _cleanup_(strv_freep) char **owned = calloc(b->img.n_layers + 1, sizeof(char *));
        if (!argv || !owned)
                return roost_error_set(b->e, -ENOMEM, "line %u: RUN", st->line);
        size_t n = 0;
        /* A name of our own for the build container: its layer is the
         * step's, removed once written. */
        snprintf(cname, sizeof(cname), "roost-build-%d-%u", (int)getpid(), st->line);
        argv[n++] = (char *)"launch";
        argv[n++] = (char *)"--store";
        argv[n++] = (char *)b->o->store_root;
        argv[n++] = (char *)"--arch";
        argv[n++] = b->arch;
        argv[n++] = (char *)"--quiet";
        argv[n++] = (char *)"--no-tty";
        argv[n++] = (char *)"--name";
        argv[n++] = cname;
        argv[n++] = (char *)"--net";
        argv[n++] = (char *)(b->o->net_none ? "none" : "host");
        for (size_t i = 0; i < n_vars; i++) {
                argv[n++] = (char *)"-e";
                argv[n++] = vars[i];
        }
        if (workdir) {
                argv[n++] = (char *)"-w";
                argv[n++] = workdir;
        }
        if (user) {
                argv[n++] = (char *)"-u";
                argv[n++] = user;
        }
        /* The image's layers, top first, as launch stacks --rootfs. */
        for (size_t i = 0; i < b->img.n_layers; i++) {
                if ((r = store_tree_path(b->s, b->img.layers[b->img.n_layers - 1 - i].digest, &owned[i])) < 0)
                        return roost_error_set(b->e, r, "line %u: RUN: the image's layers", st->line);
                argv[n++] = (char *)"--rootfs";
                argv[n++] = owned[i];
        }
        argv[n++] = (char *)"--";
        if (st->argv)
                for (char **a = st->argv; *a; a++)
                        argv[n++] = *a;
        else {
                argv[n++] = (char *)"/bin/sh";
                argv[n++] = (char *)"-c";
                argv[n++] = st->args;
        }
        argv[n] = NULL;

        /* A container of this name left by a build that died is ours to
         * replace. */
        (void)store_container_remove(b->s, cname);
        fflush(stdout);
        fflush(stderr);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return roost_error_set(b->e, -errno, "line %u: RUN: starting launch", st->line);
        if (pid == 0) {
                /* A build that is killed takes its RUN with it: launch
                 * dies with us, and its container with launch. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(125);
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
                    (b->o->out_fd != STDOUT_FILENO && dup2(b->o->out_fd, STDOUT_FILENO) < 0))
                        _exit(125);
                execv(b->o->launch, argv);
                _exit(127);
        }
        int ws;
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR) {
                        ws = 0x7f00;
                        break;
                }
        int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        if (status != 0) {
                (void)store_container_remove(b->s, cname);
                roost_error_set(b->e, 0, "line %u: %s: exited with status %d", st->line, text, status);
                return status;
        }
        int dirfd = -1;
        _cleanup_close_ int lock = store_container_take(b->s, cname, &dirfd);
        _cleanup_close_ int dfd = dirfd;
        _cleanup_close_ int upper = -1;
        struct commit_layer layer;
        _cleanup_free_ char *config = NULL;
        if (lock < 0)
                r = roost_error_set(b->e, lock, "line %u: RUN: the build container's layer", st->line);
        else if ((upper = openat(dfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                r = roost_error_set(b->e, -errno, "line %u: RUN: the build container's layer", st->line);
        else if ((r = commit_layer_write(b->s, upper, &layer, b->e)) >= 0 &&
                 (r = build_layer_tree(b, &layer, dfd, "upper", upper)) >= 0 &&
                 (r = commit_config_step(b->config, NULL, &b->cmd_set, layer.diff_id, text, build_now(b),
                                         &config, b->e)) >= 0)
                r = build_step_image(b, config, &layer, key);
        closep(&upper);
        closep(&dfd);
        closep(&lock);
        (void)store_container_remove(b->s, cname);
        return r;
}

/* ---- the other instructions ---- */

/* ARG NAME[=default]: a --build-arg given wins over the default. */
static int step_arg(struct build *b, const struct dockerfile_step *st, char *const *vars, size_t n_vars,
                    char **ret_text)
{
        _cleanup_free_ char *x = NULL;
        if (dockerfile_expand(st->args, vars, n_vars, &x) < 0)
                return roost_error_set(b->e, 0, "line %u: ARG %s: a malformed ${...}", st->line, st->args),
                       -ROOST_EUSAGE;
        char *eq = strchr(x, '=');
        size_t klen = eq ? (size_t)(eq - x) : strlen(x);
        for (size_t i = 0; i < klen; i++)
                if (!(x[i] == '_' || (x[i] >= 'A' && x[i] <= 'Z') || (x[i] >= 'a' && x[i] <= 'z') ||
                      (i && x[i] >= '0' && x[i] <= '9')))
                        return roost_error_set(b->e, 0, "line %u: ARG %s: not a NAME[=DEFAULT]", st->line,
                                               st->args),
                               -ROOST_EUSAGE;
        const char *value = NULL;
        for (size_t i = 0; i < b->o->n_build_args; i++)
                if (!strncmp(b->o->build_args[i], x, klen) && b->o->build_args[i][klen] == '=')
                        value = b->o->build_args[i] + klen + 1;
        if (!value && eq) {
                value = eq + 1;
                /* Quotes around a default go, as docker's do. */
                size_t vl = strlen(value);
                if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
                        eq[vl] = 0;
                        value++;
                }
        }
        if (!value) {
                *ret_text = NULL;
                return asprintf(ret_text, "ARG %.*s", (int)klen, x) < 0 ? -ENOMEM : 0;
        }
        char *kv;
        if (asprintf(&kv, "%.*s=%s", (int)klen, x, value) < 0)
                return -ENOMEM;
        /* The latest ARG of a name wins. */
        for (size_t i = 0; i < b->n_args; i++)
                if (!strncmp(b->args[i], kv, klen + 1)) {
                        free(b->args[i]);
                        memmove(&b->args[i], &b->args[i + 1], (b->n_args - i - 1) * sizeof(char *));
                        b->n_args--;
                        break;
                }
        char **more = realloc(b->args, (b->n_args + 2) * sizeof(char *));
        if (!more) {
                free(kv);
                return -ENOMEM;
        }
        b->args = more;
        b->args[b->n_args++] = kv;
        b->args[b->n_args] = NULL;
        return asprintf(ret_text, "ARG %s", kv) < 0 ? -ENOMEM : 0;
}

static int step_config(struct build *b, const struct dockerfile_step *st, const char *text)
{
        char key[STORE_SHA256_HEX + 1];
        _cleanup_free_ char *config = NULL;
        int r = build_step_key(b, text, NULL, key);
        if (r < 0 || (r = build_cache_try(b, key)) != 0) {
                if (r > 0)
                        build_announce(b, true);
                return r > 0 ? 0 : r;
        }
        build_announce(b, false);
        /* commit's --change reads these as a Dockerfile says them. */
        if ((r = commit_config_step(b->config, text, &b->cmd_set, NULL, text, build_now(b), &config, b->e)) <
            0) {
                char msg[sizeof(b->e->msg)];
                memcpy(msg, b->e->msg, sizeof(msg));
                roost_error_set(b->e, 0, "line %u: %.900s", st->line, msg);
                return r;
        }
        return build_step_image(b, config, NULL, key);
}

/* ---- the build ---- */

/* Build containers a build that was killed left (roost-build-PID-LINE,
 * PID no longer running): removed, as no one else will. */
static void remove_stale_containers(store *s)
{
        char **names = NULL;
        size_t n = 0;
        if (store_container_list(s, &names, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                char *end;
                if (strncmp(names[i], "roost-build-", 12))
                        continue;
                long pid = strtol(names[i] + 12, &end, 10);
                if (pid > 0 && *end == '-' && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
                        (void)store_container_remove(s, names[i]);
        }
        strv_free(names);
}

int build_run(store *s, const struct dockerfile *df, const struct build_options *o, const char *name,
              const char *tag, char ret_digest[STORE_SHA256_HEX + 1], roost_error *e)
{
        struct build b = { .s = s, .o = o, .e = e };
        int r = 0;
        snprintf(b.arch, sizeof(b.arch), "%s",
                 o->arch              ? o->arch
                 : host_alpine_arch() ? host_alpine_arch()
                                      : "");
        remove_stale_containers(s);
        if (o->dockerignore && (r = dockerignore_parse(o->dockerignore, &b.ignore)) < 0)
                return roost_error_set(e, r, ".dockerignore");
        for (size_t i = 0; r == 0 && i < df->n; i++) {
                const struct dockerfile_step *st = &df->steps[i];
                size_t n_vars = 0;
                _cleanup_(strv_freep) char **vars = NULL;
                _cleanup_free_ char *text = NULL;
                if (b.config)
                        vars = step_vars(&b, &n_vars);
                else {
                        /* Before FROM: only the ARGs (FROM may use them). */
                        vars = calloc(b.n_args + 1, sizeof(char *));
                        for (size_t j = 0; vars && j < b.n_args; j++)
                                if ((vars[n_vars] = strdup(b.args[j])))
                                        n_vars++;
                }
                if (!vars) {
                        r = roost_error_set(e, -ENOMEM, "line %u", st->line);
                        break;
                }
                switch (st->kind) {
                case DF_ARG:
                        r = step_arg(&b, st, vars, n_vars, &text);
                        break;
                case DF_RUN:
                case DF_CMD:
                case DF_ENTRYPOINT:
                        /* The shell does the RUN's expansion, with the
                         * variables in its environment. */
                        r = (text = strdup(st->text)) ? 0 : -ENOMEM;
                        break;
                default:
                        if (dockerfile_expand(st->text, vars, n_vars, &text) < 0) {
                                roost_error_set(e, 0, "line %u: %s: a malformed ${...}", st->line, st->text);
                                r = -ROOST_EUSAGE;
                        }
                }
                if (r < 0)
                        break;
                b.index = i;
                b.text = text;
                switch (st->kind) {
                case DF_FROM: {
                        const char *image = text + 5;
                        build_announce(&b, false);
                        r = !strcmp(image, "scratch") ? from_scratch(&b) : from_image(&b, image);
                        /* The ARGs before FROM serve FROM alone. */
                        strv_free(b.args);
                        b.args = NULL, b.n_args = 0;
                        break;
                }
                case DF_ARG:
                        build_announce(&b, false);
                        break;
                case DF_RUN:
                        r = step_run(&b, st, vars, n_vars, text);
                        break;
                case DF_COPY:
                        r = build_step_copy(&b, st, vars, n_vars, text);
                        break;
                default:
                        r = step_config(&b, st, text);
                }
        }
        if (r == 0) {
                int64_t created = build_now(&b);
                struct store_ref ref = {
                        .name = (char *)name,
                        .tag = (char *)tag,
                        .arch = b.arch,
                        .digest = b.digest,
                        .created = created,
                };
                if ((r = store_ref_write(s, &ref)) < 0)
                        roost_error_set(e, r, "writing the reference %s:%s", name, tag);
                else
                        memcpy(ret_digest, b.digest, sizeof(b.digest));
        }
        dockerignore_done(&b.ignore);
        strv_free(b.args);
        free(b.config);
        store_ref_done(&b.img);
        return r;
}
