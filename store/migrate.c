/* A store written before images were OCI images kept one archive per
 * reference: refs/<arch>/<name>:<tag>, a JSON document naming the archive
 * by its SHA-256. Each becomes an image whose single layer is that archive
 * (the blob and its unpacked tree stay where they are: trees were keyed by
 * the archive's digest then as layers are now), and the old folder goes.
 *
 * It runs in store_open with the store lock held exclusively, so no other
 * command sees it half done. It is idempotent: a migration cut short leaves
 * refs/ in place and the next open does it all again. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <jansson.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

int store_ref_v1_parse(const char *text, struct store_ref *ret, char layer[STORE_SHA256_HEX + 1])
{
        _cleanup_json_ json_t *o = json_loads(text, 0, NULL);
        const char *name, *tag, *arch, *version, *source, *sha256, *sha512 = NULL, *created;
        json_int_t size, schema;
        _cleanup_store_ref_ struct store_ref ref = { 0 };
        if (!o ||
            json_unpack(o, "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s?s, s:I, s:s}", "schema", &schema, "name",
                        &name, "tag", &tag, "arch", &arch, "version", &version, "source", &source, "sha256",
                        &sha256, "sha512", &sha512, "size", &size, "created", &created) < 0 ||
            schema != 1 || size < 0 || !store_digest_valid(sha256) || !store_ref_name_valid(name) ||
            !store_ref_tag_valid(tag) || !store_arch_valid(arch) ||
            (sha512 && !is_hex(sha512, STORE_SHA512_HEX)) || store_time_parse(created, &ref.created) < 0)
                return -ROOST_EFORMAT;
        ref.name = strdup(name);
        ref.tag = strdup(tag);
        ref.arch = strdup(arch);
        ref.version = strdup(version);
        ref.source = strdup(source);
        ref.sha512 = sha512 ? strdup(sha512) : NULL;
        ref.size = (uint64_t)size;
        memcpy(layer, sha256, STORE_SHA256_HEX + 1);
        if (!ref.name || !ref.tag || !ref.arch || !ref.version || !ref.source || (sha512 && !ref.sha512))
                return -ENOMEM;
        *ret = TAKE_STRUCT(ref);
        return 0;
}

int store_ref_v1_json(const struct store_ref *ref, char **ret)
{
        char when[32];
        if (ref->n_layers != 1 || store_time_format(ref->created, when, sizeof(when)) < 0)
                return -EINVAL;
        _cleanup_json_ json_t *o = json_pack(
                "{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:I, s:s}", "schema", 1, "name", ref->name, "tag",
                ref->tag, "arch", ref->arch, "version", ref->version ? ref->version : "", "source",
                ref->source ? ref->source : "", "sha256", ref->layers[0].digest, "sha512", ref->sha512,
                "size", (json_int_t)ref->size, "created", when);
        if (!o)
                return -EINVAL;
        *ret = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        return *ret ? 0 : -ENOMEM;
}

int store_ref_v1_publish(store *s, struct store_ref *ref, const char *layer)
{
        char diff[STORE_SHA256_HEX + 1], digest[STORE_SHA256_HEX + 1];
        const char *base = ref->source ? strrchr(ref->source, '/') : NULL;
        int r = store_layer_diff_id(s, layer, true, diff);
        if (r == 0)
                r = store_image_put_rootfs(s, ref->arch, layer, diff, ref->size, ref->version, ref->created,
                                           base ? base + 1 : ref->source, digest);
        if (r < 0)
                return r;
        ref->digest = digest;
        r = store_ref_write(s, ref);
        ref->digest = NULL;
        return r;
}

static int migrate_one(store *s, const char *text)
{
        _cleanup_store_ref_ struct store_ref ref = { 0 };
        char layer[STORE_SHA256_HEX + 1];
        int r = store_ref_v1_parse(text, &ref, layer);
        if (r < 0)
                return r;
        return store_ref_v1_publish(s, &ref, layer);
}

static int migrate_arch(store *s, int parent, const char *arch)
{
        DIR *d;
        int r = opendir_at(parent, arch, &d);
        if (r < 0)
                return r == -ENOTDIR ? 0 : r;
        struct dirent *de;
        while ((de = readdir(d))) {
                _cleanup_free_ char *text = NULL;
                struct stat st;
                if (de->d_name[0] == '.' || !strchr(de->d_name, ':') ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                int k = read_file_at(dirfd(d), de->d_name, STORE_REF_MAX, &text, NULL);
                if (k == 0)
                        k = migrate_one(s, text);
                /* A reference whose archive is gone named nothing, and one
                 * that cannot be read is not one roost wrote: both go with
                 * the old folder. What fails otherwise (a full disk) stops
                 * the migration, to be done again by the next command. */
                if (k < 0 && k != -ENOENT && k != -ROOST_EFORMAT && r == 0)
                        r = k;
        }
        closedir(d);
        return r;
}

int store_migrate(store *s, bool exclusive)
{
        struct stat st;
        if (fstatat(s->fd, "refs", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (s->read_only)
                return -ROOST_EOLDSTORE;
        /* Exclusively: every other command waits, then finds it done. */
        while (!exclusive && flock(s->lock_fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return -errno;
        int r = 0;
        if (fstatat(s->fd, "refs", &st, AT_SYMLINK_NOFOLLOW) == 0) {
                DIR *d = NULL;
                r = opendir_at(s->fd, "refs", &d);
                struct dirent *de;
                while (r == 0 && (de = readdir(d)))
                        if (de->d_name[0] != '.')
                                r = migrate_arch(s, dirfd(d), de->d_name);
                if (d)
                        closedir(d);
                _cleanup_free_ char *tmp = NULL, *old = NULL;
                _cleanup_close_ int tfd = -1;
                if (r == 0 && (r = store_tmpdir(s, &tmp, &tfd)) == 0) {
                        if (asprintf(&old, "%s/refs", tmp) < 0)
                                r = -ENOMEM;
                        else if (renameat(s->fd, "refs", s->fd, old) < 0 || fsync(s->fd) < 0)
                                r = -errno;
                        else
                                (void)rm_rf_at(s->fd, tmp);
                }
        }
        int k = !exclusive && flock(s->lock_fd, LOCK_SH) < 0 ? -errno : 0;
        return r < 0 ? r : k;
}

void store_enable_migration(void)
{
        store_migrator = store_migrate;
}
