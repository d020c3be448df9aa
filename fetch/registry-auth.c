/* Registry credentials in the auth.json podman writes (and docker's
 * config.json, read only): {"auths": {"REGISTRY": {"auth": base64("user:pass")}}}.
 * Never logged, never in --json, never in the store. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/error.h"
#include "common/util.h"
#include "fetch/registry.h"
#include "store/json.h"

#define AUTH_FILE_MAX (1 << 20)

void registry_json_wipe_freed(void)
{
        /* secret_free is free() for whatever malloc gave: a block jansson
         * took before this call is freed rightly too. */
        json_set_alloc_funcs(malloc, secret_free);
}

int registry_auth_file(char **ret)
{
        /* podman's choice: $REGISTRY_AUTH_FILE, else the runtime folder
         * (gone at reboot), else /run/containers/UID, for root and users
         * alike. */
        const char *e = getenv("REGISTRY_AUTH_FILE"), *run = getenv("XDG_RUNTIME_DIR");
        int r;
        if (e && *e)
                r = asprintf(ret, "%s", e);
        else if (run && *run)
                r = asprintf(ret, "%s/containers/auth.json", run);
        else
                r = asprintf(ret, "/run/containers/%u/auth.json", (unsigned)geteuid());
        return r < 0 ? -ENOMEM : 0;
}

int registry_docker_file(char **ret)
{
        const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
        int r;
        if (dir && *dir)
                r = asprintf(ret, "%s/config.json", dir);
        else if (home && *home)
                r = asprintf(ret, "%s/.docker/config.json", home);
        else
                return -ENOENT;
        return r < 0 ? -ENOMEM : 0;
}

/* The files a lookup reads, in podman's order: the one roost login
 * writes; unless $REGISTRY_AUTH_FILE names that one, also
 * ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json and docker's. */
static int lookup_files(char *files[3])
{
        const char *e = getenv("REGISTRY_AUTH_FILE"), *cfg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        int r = registry_auth_file(&files[0]);
        if (r < 0 || (e && *e))
                return r;
        if (cfg && *cfg)
                r = asprintf(&files[1], "%s/containers/auth.json", cfg);
        else if (home && *home)
                r = asprintf(&files[1], "%s/.config/containers/auth.json", home);
        if (r < 0) {
                files[1] = NULL;
                return -ENOMEM;
        }
        r = registry_docker_file(&files[2]);
        return r == -ENOENT ? 0 : r;
}

int registry_login_name(const char *text, char **ret)
{
        /* docker login takes a URL too: its host is the name. */
        if (!strncmp(text, "https://", 8))
                text += 8;
        else if (!strncmp(text, "http://", 7))
                text += 7;
        size_t n = strcspn(text, "/");
        if (n == 0 || n > 255 || strspn(text + n, "/") != strlen(text + n))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)text[i]) && !strchr(".-:[]_", text[i]))
                        return -EINVAL;
        if ((n == 15 && !strncmp(text, "index.docker.io", n)) || (n == 20 && !strncmp(text, "registry-1.docker.io", n)))
                text = "docker.io", n = 9;
        return (*ret = strndup(text, n)) ? 0 : -ENOMEM;
}

static json_t *load(const char *file, int *err)
{
        /* The user's own file: a link to it (dotfiles kept elsewhere) is
         * followed, as podman and docker follow it. */
        _cleanup_free_ char *real = realpath(file, NULL);
        _cleanup_(secret_freep) char *text = NULL;
        size_t len;
        if (!real) {
                *err = -errno;
                return NULL;
        }
        int r = read_file_at(AT_FDCWD, real, AUTH_FILE_MAX, &text, &len);
        if (r < 0) {
                *err = r;
                return NULL;
        }
        json_t *o = json_loadb(text, len, 0, NULL);
        if (!json_is_object(o)) {
                json_decref(o);
                *err = -ROOST_EFORMAT;
                return NULL;
        }
        return o;
}

/* The auths entry of REGISTRY, under the names docker and podman use. */
static json_t *entry_of(json_t *auths, const char *registry)
{
        char url[300];
        json_t *a = json_object_get(auths, registry);
        snprintf(url, sizeof(url), "https://%s", registry);
        if (!a)
                a = json_object_get(auths, url);
        if (!a && (!strcmp(registry, "docker.io") || !strcmp(registry, "registry-1.docker.io")))
                if (!(a = json_object_get(auths, "https://index.docker.io/v1/")) &&
                    !(a = json_object_get(auths, "docker.io")))
                        a = json_object_get(auths, "index.docker.io");
        return a;
}

static int decode(const char *b64, char **ret_user, char **ret_pass)
{
        size_t n = strlen(b64);
        if (n == 0 || n % 4 || n > 4096)
                return -ROOST_EFORMAT;
        /* The password in clear: wiped before the buffer is freed. */
        _cleanup_(secret_freep) char *out = malloc(n / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        int k = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)b64, (int)n);
        if (k < 0)
                return -ROOST_EFORMAT;
        /* EVP_DecodeBlock counts the padding's bytes as decoded zeros. */
        for (const char *p = b64 + n; p > b64 && p[-1] == '='; p--)
                k--;
        out[k] = 0;
        char *colon = memchr(out, ':', (size_t)k);
        if (!colon || memchr(out, 0, (size_t)k))
                return -ROOST_EFORMAT;
        *colon = 0;
        if (!(*ret_user = strdup(out)))
                return -ENOMEM;
        if (!(*ret_pass = strdup(colon + 1))) {
                secret_freep(ret_user);
                return -ENOMEM;
        }
        return 0;
}

static int lookup_in(const char *file, const char *registry, char **ret_user, char **ret_pass)
{
        int err = 0;
        _cleanup_json_ json_t *o = load(file, &err);
        if (!o)
                return err == -ENOENT ? -ENOENT : err;
        const char *b64 = json_string_value(json_object_get(entry_of(json_object_get(o, "auths"), registry), "auth"));
        return b64 && *b64 ? decode(b64, ret_user, ret_pass) : -ENOENT;
}

int registry_creds_lookup(const char *file, const char *registry, char **ret_user, char **ret_pass)
{
        if (file)
                return lookup_in(file, registry, ret_user, ret_pass);
        char *files[3] = { 0 };
        int r = lookup_files(files);
        if (r == 0)
                r = -ENOENT;
        for (size_t i = 0; r == -ENOENT && i < 3; i++) {
                if (!files[i])
                        continue;
                r = lookup_in(files[i], registry, ret_user, ret_pass);
                /* A file we may not read is one that is not there
                 * (another user's $HOME, a folder in its place). */
                if (r == -EACCES || r == -ENOTDIR)
                        r = -ENOENT;
        }
        for (size_t i = 0; i < 3; i++)
                free(files[i]);
        return r;
}

/* A credential helper FILE names for REGISTRY: credHelpers' own, else
 * credsStore. */
static int helper_in(const char *file, const char *registry, char **ret)
{
        int err = 0;
        _cleanup_json_ json_t *o = load(file, &err);
        if (!o)
                return err;
        const char *h = json_string_value(entry_of(json_object_get(o, "credHelpers"), registry));
        if (!h || !*h)
                h = json_string_value(json_object_get(o, "credsStore"));
        if (!h || !*h)
                return -ENOENT;
        return asprintf(ret, "docker-credential-%s", h) < 0 ? -ENOMEM : 0;
}

int registry_creds_helper(const char *file, const char *registry, char **ret_helper)
{
        if (file)
                return helper_in(file, registry, ret_helper);
        char *files[3] = { 0 };
        int r = lookup_files(files);
        bool found = false;
        for (size_t i = 0; r >= 0 && !found && i < 3; i++)
                found = files[i] && helper_in(files[i], registry, ret_helper) == 0;
        for (size_t i = 0; i < 3; i++)
                free(files[i]);
        return found ? 0 : -ENOENT;
}

/* Make FILE's folder (0700, as podman makes it), and write O there: a
 * temporary beside it, renamed over it. */
static int save(const char *file, json_t *o)
{
        _cleanup_free_ char *dir = strdup(file);
        _cleanup_(secret_freep) char *text = json_dumps(o, JSON_INDENT(8));
        if (!dir || !text)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        const char *name = file;
        if (slash) {
                *slash = 0;
                name = slash + 1;
                for (char *p = dir + 1; *p; p++)
                        if (*p == '/') {
                                *p = 0;
                                (void)mkdir(dir, 0700);
                                *p = '/';
                        }
                if (*dir && mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return -errno;
        }
        _cleanup_close_ int dfd = open(slash ? (*dir ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        size_t n = strlen(text);
        text[n] = '\n';
        return write_file_atomic_at(dfd, name, text, n + 1, 0600);
}

int registry_creds_file_check(const char *file)
{
        int err = 0;
        _cleanup_json_ json_t *o = load(file, &err);
        return o || err == -ENOENT ? 0 : err;
}

int registry_creds_store(const char *file, const char *registry, const char *user, const char *pass)
{
        int err = 0;
        _cleanup_json_ json_t *o = load(file, &err);
        if (!o && err != -ENOENT)
                return err;
        if (!o && !(o = json_object()))
                return -ENOMEM;
        json_t *auths = json_object_get(o, "auths");
        if (!json_is_object(auths)) {
                auths = json_object();
                if (!auths || json_object_set_new(o, "auths", auths) < 0)
                        return -ENOMEM;
        }
        if (strchr(user, ':'))
                return -EINVAL;
        _cleanup_(secret_freep) char *plain = secret_concat(user, ":", pass), *b64 = NULL;
        if (!plain)
                return -ENOMEM;
        size_t n = strlen(plain);
        if (!(b64 = malloc((n + 2) / 3 * 4 + 1)))
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
        if (json_object_set_new(auths, registry, json_pack("{s:s}", "auth", b64)) < 0)
                return -ENOMEM;
        return save(file, o);
}

int registry_creds_remove(const char *file, const char *registry)
{
        int err = 0;
        _cleanup_json_ json_t *o = load(file, &err);
        if (!o)
                return err;
        json_t *auths = json_object_get(o, "auths");
        char url[300];
        snprintf(url, sizeof(url), "https://%s", registry);
        /* Every key entry_of reads for it: one left would still be used. */
        bool hub = !strcmp(registry, "docker.io");
        const char *keys[] = { registry, url, hub ? "https://index.docker.io/v1/" : NULL,
                               hub ? "index.docker.io" : NULL };
        bool removed = false;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (keys[i] && json_object_del(auths, keys[i]) == 0)
                        removed = true;
        if (!removed)
                return -ENOENT;
        return save(file, o);
}

int registry_creds_remove_all(const char *file)
{
        int err = 0;
        _cleanup_json_ json_t *o = load(file, &err);
        if (!o)
                return err;
        json_t *auths = json_object_get(o, "auths");
        if (!json_is_object(auths) || json_object_size(auths) == 0)
                return -ENOENT;
        json_object_clear(auths);
        return save(file, o);
}
