/* Writing references: each change of a reference's index is one
 * read-modify-write under the lock of the name's folder. Kept apart from
 * ref.c, which only reads, so that launch links no hashing. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <jansson.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

/* The reference's folder, made if need be and locked exclusively: one
 * read-modify-write of its index at a time. */
static int ref_lock(store *s, const char *name, int *ret_dirfd)
{
        char dir[REF_DIR_MAX];
        int r = ref_dir(name, dir, sizeof(dir));
        if (r < 0 || (r = mkdir_at_p(s->fd, dir, 0700)) < 0)
                return r;
        int fd = openat(s->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        close(fd);
                        return r;
                }
        *ret_dirfd = fd;
        return 0;
}

/* The index of TAG in DIRFD with ARCH's entry replaced by ENTRY (dropped
 * when ENTRY is NULL), stored, and the reference pointed at it; the
 * reference is removed when no platform is left. */
static int index_update(store *s, int dirfd, const char *name, const char *tag, const char *arch, json_t *entry)
{
        char hex[STORE_SHA256_HEX + 1];
        _cleanup_json_ json_t *idx = NULL, *list = json_array();
        json_t *m;
        int r = ref_index_hex(dirfd, tag, hex);
        if (r == 0 && !(idx = ref_index_load(s, hex)))
                r = -ROOST_EFORMAT;
        /* A reference that cannot be read is replaced by a write, and
         * removed whole by a removal, whichever platform it named. */
        if (r == -ROOST_EFORMAT && !entry)
                return unlinkat(dirfd, tag, 0) < 0 ? -errno : 0;
        if (r < 0 && r != -ENOENT && r != -ROOST_EFORMAT)
                return r;
        bool found = false;
        size_t i;
        json_array_foreach(json_object_get(idx, "manifests"), i, m) {
                const char *a = ref_entry_arch(m);
                if (a && !strcmp(a, arch))
                        found = true;
                else
                        json_array_append(list, m);
        }
        if (!entry && !found)
                return -ROOST_ENOTFOUND;
        if (entry)
                json_array_append(list, entry);
        if (json_array_size(list) == 0)
                return unlinkat(dirfd, tag, 0) < 0 ? -errno : 0;
        _cleanup_json_ json_t *o = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
                                             STORE_MEDIA_INDEX, "manifests", list);
        _cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!text)
                return -ENOMEM;
        if ((r = store_blob_put(s, text, strlen(text), hex)) < 0)
                return r;
        _cleanup_json_ json_t *ref = json_pack("{s:i, s:s, s:s, s:s+}", "schema", 2, "name", name, "tag", tag,
                                               "index", "sha256:", hex);
        _cleanup_free_ char *doc = ref ? json_dumps(ref, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        _cleanup_free_ char *line = NULL;
        if (!doc || asprintf(&line, "%s\n", doc) < 0) {
                line = NULL; /* undefined after a failure */
                return -ENOMEM;
        }
        return write_file_atomic_at(dirfd, tag, line, strlen(line), 0600);
}

int store_ref_write(store *s, const struct store_ref *ref)
{
        const char *oarch, *variant;
        if (!store_ref_tag_valid(ref->tag) || !store_digest_valid(ref->digest) ||
            store_arch_to_platform(ref->arch, &oarch, &variant) < 0)
                return -ROOST_EUNSAFE;
        /* The invariant: a reference never names anything missing, down to
         * the last layer. */
        _cleanup_store_ref_ struct store_ref img = { 0 };
        int r = store_manifest_read(s, ref->digest, &img);
        if (r == 0 && !store_blob_exists(s, img.config))
                r = -ENOENT;
        for (size_t i = 0; r == 0 && i < img.n_layers; i++)
                if (!store_blob_exists(s, img.layers[i].digest))
                        r = -ENOENT;
        if (r == 0 && ref->signature &&
            (!store_digest_valid(ref->signature) || !store_blob_exists(s, ref->signature)))
                r = -ENOENT;
        uint64_t msize;
        if (r < 0 || (r = store_blob_size(s, ref->digest, &msize)) < 0)
                return r == -ROOST_EFORMAT ? r : -ENOENT;
        char when[32];
        if (store_time_format(ref->created, when, sizeof(when)) < 0)
                return -EINVAL;
        json_t *ann = json_pack("{s:s}", "roost.created", when);
        if (ann && ref->version)
                json_object_set_new(ann, "roost.version", json_string(ref->version));
        if (ann && ref->source)
                json_object_set_new(ann, "roost.source", json_string(ref->source));
        if (ann && ref->sha512)
                json_object_set_new(ann, "roost.sha512", json_string(ref->sha512));
        if (ann && ref->verdict)
                json_object_set_new(ann, "roost.verdict", json_string(ref->verdict));
        if (ann && ref->signature)
                json_object_set_new(ann, "roost.signature", json_string(ref->signature));
        if (ann && ref->signer)
                json_object_set_new(ann, "roost.signer", json_string(ref->signer));
        json_t *plat = json_pack("{s:s, s:s}", "architecture", oarch, "os", "linux");
        if (plat && variant)
                json_object_set_new(plat, "variant", json_string(variant));
        _cleanup_json_ json_t *entry = json_pack(
                "{s:s, s:s+, s:I, s:o, s:o}", "mediaType", STORE_MEDIA_MANIFEST, "digest",
                "sha256:", ref->digest, "size", (json_int_t)msize, "platform", plat, "annotations", ann);
        if (!entry)
                return -ENOMEM;
        _cleanup_close_ int dfd = -1;
        if ((r = ref_lock(s, ref->name, &dfd)) == 0)
                r = index_update(s, dfd, ref->name, ref->tag, ref->arch, entry);
        return r;
}

int store_ref_remove(store *s, const char *name, const char *tag, const char *arch)
{
        char dir[REF_DIR_MAX];
        int r = ref_dir(name, dir, sizeof(dir));
        if (r < 0)
                return r;
        if (!store_ref_tag_valid(tag) || !store_arch_valid(arch))
                return -ROOST_EUNSAFE;
        struct stat st;
        if (fstatat(s->fd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? -ROOST_ENOTFOUND : -errno;
        _cleanup_close_ int dfd = -1;
        if ((r = ref_lock(s, name, &dfd)) < 0)
                return r;
        r = index_update(s, dfd, name, tag, arch, NULL);
        return r == -ENOENT ? -ROOST_ENOTFOUND : r;
}
