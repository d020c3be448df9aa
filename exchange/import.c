/* roost import: an image from a file, recognised by what it holds
 * (docs/exchange.md, "roost import"). An OCI layout (a directory or a tar of one), a
 * docker-archive, roost's earlier export or a root filesystem tarball;
 * each format's file stores the blobs and leaves a manifest in the store,
 * and this one writes the reference, last, with roost's own provenance. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include "common/util.h"
#include "exchange/import-private.h"
#include "trust/trust.h"
#include "unpack/unpack.h"

#define SPOOL_NAME "input"

void exchange_import_result_done(struct exchange_import_result *r)
{
        if (!r)
                return;
        free(r->name);
        free(r->tag);
        free(r->arch);
        memset(r, 0, sizeof(*r));
}

const char *import_config_arch(const char *config, const char *label, roost_error *e)
{
        json_t *o = json_loads(config, JSON_REJECT_DUPLICATES, NULL);
        const char *arch = json_string_value(json_object_get(o, "architecture"));
        const char *variant = json_string_value(json_object_get(o, "variant"));
        const char *os = json_string_value(json_object_get(o, "os"));
        const char *alpine = arch ? store_arch_from_platform(arch, variant) : NULL;
        if (!json_is_object(o) || !arch)
                roost_error_set(e, 0, "%s: the image's config is not an image config (no architecture)", label);
        else if (os && strcmp(os, "linux"))
                roost_error_set(e, 0, "%s: the image is for %s, not linux", label, os), alpine = NULL;
        else if (!alpine)
                roost_error_set(e, 0, "%s: the image's architecture %s%s%s is none roost knows", label, arch,
                                variant ? "/" : "", variant ? variant : "");
        json_decref(o);
        return alpine;
}

int import_check_diff_ids(store *s, const char *label, const char *config, const struct store_layer *layers,
                          size_t n, roost_error *e)
{
        json_t *o = json_loads(config, JSON_REJECT_DUPLICATES, NULL);
        json_t *ids = json_object_get(json_object_get(o, "rootfs"), "diff_ids");
        int r = 0;
        if (!json_is_array(ids) || json_array_size(ids) != n)
                r = import_fail(e, -ROOST_EFORMAT, "%s: the config lists %zu diff_ids for %zu layers", label,
                                    json_is_array(ids) ? json_array_size(ids) : 0, n);
        for (size_t i = 0; r == 0 && i < n; i++) {
                const char *want = json_string_value(json_array_get(ids, i));
                char got[STORE_SHA256_HEX + 1];
                if ((r = store_layer_diff_id(s, layers[i].digest, store_layer_gzip(&layers[i]), got)) < 0) {
                        roost_error_set(e, r, "%s: layer %zu's diff_id", label, i + 1);
                        break;
                }
                if (!want || strncmp(want, "sha256:", 7) || strcmp(want + 7, got))
                        r = import_fail(e, -ROOST_EDIGEST, "%s: layer %zu unpacks to sha256:%.12s…, the config's diff_id says "
                                                  "%.19s…: tampered or damaged",
                                            label, i + 1, got, want ? want : "nothing");
        }
        json_decref(o);
        return r;
}

int import_pick_name(const struct exchange_import_options *o, const char *own, char **ret_name, char **ret_tag,
                     roost_error *e)
{
        _cleanup_free_ char *oname = NULL, *otag = NULL;
        /* The input's own reference: "name:tag" (podman, docker), or a tag
         * alone (skopeo's and umoci's oci:DIR:TAG). One roost cannot take
         * is as good as none: the user names the image. */
        if (own && *own) {
                const char *slash = strrchr(own, '/');
                if (strchr(slash ? slash : own, ':') && !strchr(own, '@'))
                        (void)store_ref_parse(own, NULL, &oname, &otag);
                else if (store_ref_tag_valid(own))
                        otag = strdup(own);
        }
        const char *name = o->name ? o->name : oname, *tag = o->tag ? o->tag : otag ? otag : o->name ? "latest" : NULL;
        if (!name) {
                if (own && *own && otag)
                        return import_fail(e, -ROOST_EUSAGE, "the image is named only by its tag '%s': give it a name, as NAME:TAG "
                                                     "after the file",
                                               otag);
                return import_fail(e, -ROOST_EUSAGE, "the image has no name%s%s%s: give one, as NAME:TAG after the file",
                                       own && *own ? " roost can use ('" : "", own && *own ? own : "",
                                       own && *own ? "')" : "");
        }
        if (!(*ret_name = strdup(name)) || !(*ret_tag = strdup(tag))) {
                free(*ret_name);
                return -ENOMEM;
        }
        return 0;
}

/* Standard input (or any file that cannot be read twice: a FIFO) copied
 * into a temporary of the store's: entries come in any order and the
 * documents that say what to store may come last, so the archive is read
 * twice. The compressed bytes are kept as they came, on the store's file
 * system, and a temporary that outlives a killed import is removed by the
 * next command (store_cleanup). */
static int spool(store *s, int in, const char *label, char **ret_dir, int *ret_lock, int *ret_fd, roost_error *e)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int lock = -1;
        int r = store_tmpdir(s, &dir, &lock);
        if (r < 0)
                return roost_error_set(e, r, "making a temporary in the store");
        char name[96];
        snprintf(name, sizeof(name), "%s/" SPOOL_NAME, dir);
        int fd = openat(store_dirfd(s), name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                r = -errno;
                rm_rf_at(store_dirfd(s), dir);
                return roost_error_set(e, r, "making a temporary in the store");
        }
        _cleanup_free_ unsigned char *buf = malloc(1 << 16);
        for (r = buf ? 0 : -ENOMEM; r == 0;) {
                ssize_t k = read(in, buf, 1 << 16);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = roost_error_set(e, -errno, "reading %s", label);
                        break;
                }
                if (k == 0)
                        break;
                if ((r = write_all(fd, buf, (size_t)k)) < 0)
                        roost_error_set(e, r, "keeping %s in the store's tmp/", label);
        }
        if (r < 0) {
                close(fd);
                rm_rf_at(store_dirfd(s), dir);
                return r;
        }
        *ret_dir = TAKE_PTR(dir);
        *ret_lock = TAKE_FD(lock);
        *ret_fd = fd;
        return 0;
}

/* The first entry's name, for roost's own export (roost-image.json
 * first): it is told apart before anything else is read. */
static int first_entry_is(int fd, const char *want)
{
        struct archive *a = archive_read_new();
        struct archive_entry *ent;
        archive_read_support_format_tar(a);
        unpack_read_filters(a);
        int yes = lseek(fd, 0, SEEK_SET) == 0 && archive_read_open_fd(a, fd, 1 << 16) == ARCHIVE_OK &&
                  archive_read_next_header(a, &ent) == ARCHIVE_OK && archive_entry_pathname(ent) &&
                  !strcmp(archive_entry_pathname(ent), want);
        archive_read_free(a);
        return yes;
}

static bool dir_has(int dirfd, const char *name)
{
        struct stat st;
        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* IMG's signature over its stored layer, with the keys a pull trusts
 * (Alpine's and ROOST_TRUST's): a good one is stored as a blob (its hex in
 * SIG_HEX), anything else refuses the import, as pull refuses it. */
static int signature_check(store *s, const char *path, const struct import_image *img, struct trust_verdict *v,
                           char sig_hex[STORE_SHA256_HEX + 1], roost_error *e)
{
        trust_keys *keys = NULL;
        roost_error why = { "" };
        int r = trust_keys_load(NULL, 0, &keys, &why);
        if (r >= 0) {
                _cleanup_close_ int fd = store_blob_open(s, img->layer);
                r = fd < 0 ? roost_error_set(&why, fd, "reading the stored layer")
                           : trust_check_fd(keys, img->sig, img->sig_len, fd, v, &why);
        }
        trust_keys_free(keys);
        if (r < 0)
                return roost_error_set(e, 0, "%s: the signature it carries does not verify: %s", path, why.msg),
                       r == -ROOST_ESIGNATURE ? -ROOST_ESIGNATURE : r;
        if ((r = store_blob_put(s, img->sig, img->sig_len, sig_hex)) < 0)
                return roost_error_set(e, r, "%s: storing its signature", path);
        return 0;
}

/* The file:// URL the store records as the image's source. */
static char *source_url(const char *path)
{
        char abs[PATH_MAX], *url = NULL;
        if (!realpath(path, abs) || asprintf(&url, "file://%s", abs) < 0)
                return NULL;
        return url;
}

int exchange_import(store *s, const char *path, const struct exchange_import_options *o,
                    struct exchange_import_result *ret, roost_error *e)
{
        struct import_source src = { .label = path, .dirfd = -1, .fd = -1 };
        struct import_image img = { 0 };
        _cleanup_free_ char *spool_dir = NULL, *name = NULL, *tag = NULL, *source = NULL;
        _cleanup_close_ int spool_lock = -1, in = -1;
        enum exchange_input format;
        struct stat st;
        int r;

        if (!strcmp(path, "-"))
                in = dup(STDIN_FILENO); /* closed like any other */
        else
                in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0) {
                r = -errno;
                return r == -ENOENT ? import_fail(e, -ROOST_ENOTFOUND, "%s: no such file", path)
                                    : roost_error_set(e, r, "%s", path);
        }
        if (fstat(in, &st) < 0)
                return roost_error_set(e, -errno, "%s", path);
        if (S_ISDIR(st.st_mode)) {
                src.dirfd = in;
                if (!dir_has(in, "index.json") || !dir_has(in, "oci-layout")) {
                        r = import_fail(e, -ROOST_EFORMAT, "%s: not an OCI image layout (no index.json and oci-layout in it)", path);
                        goto out;
                }
                format = EXCHANGE_INPUT_OCI;
        } else if (!S_ISREG(st.st_mode)) {
                if ((r = spool(s, in, strcmp(path, "-") ? path : "standard input", &spool_dir, &spool_lock, &src.fd, e)) < 0)
                        goto out;
        } else
                src.fd = TAKE_FD(in);

        if (src.fd >= 0) {
                if (first_entry_is(src.fd, "roost-image.json")) {
                        r = import_roost(s, src.fd, path, ret, e);
                        if (r == 0)
                                ret->format = EXCHANGE_INPUT_ROOST;
                        goto out;
                }
                if ((r = import_source_scan(&src, e)) < 0)
                        goto out;
                if (import_source_has(&src, "index.json") && import_source_has(&src, "oci-layout"))
                        format = EXCHANGE_INPUT_OCI;
                else if (import_source_has(&src, "manifest.json"))
                        format = EXCHANGE_INPUT_DOCKER;
                else
                        format = EXCHANGE_INPUT_ROOTFS;
        }

        switch (format) {
        case EXCHANGE_INPUT_OCI:
                r = import_oci(&src, s, o, &img, &name, &tag, e);
                break;
        case EXCHANGE_INPUT_DOCKER:
                r = import_docker(&src, s, o, &img, &name, &tag, e);
                break;
        default:
                if ((r = import_pick_name(o, NULL, &name, &tag, e)) < 0) {
                        roost_error_set(e, 0, "%s: a root filesystem tarball (no OCI layout, docker-archive or roost "
                                              "export in it): give the image a name, as NAME:TAG after the file",
                                        path);
                        break;
                }
                r = import_rootfs(&src, s, o, &img, e);
                break;
        }
        if (r < 0)
                goto out;

        /* A signature the file carried is checked again, over the layer
         * as stored: the verdict is roost's, never the file's word. */
        struct trust_verdict verdict = { 0 };
        char sig_hex[STORE_SHA256_HEX + 1] = "";
        if (img.sig && (r = signature_check(s, path, &img, &verdict, sig_hex, e)) < 0)
                goto out;

        /* The reference, last: roost's own record of where the image came
         * from, nothing the input says about itself. */
        source = strcmp(path, "-") ? source_url(path) : NULL;
        struct store_ref ref = {
                .name = name,
                .tag = tag,
                .arch = (char *)img.arch,
                .source = source,
                .digest = img.digest,
                .created = (int64_t)time(NULL),
                .verdict = img.sig ? (char *)"signed" : NULL,
                .signature = img.sig ? sig_hex : NULL,
                .signer = img.sig ? verdict.signer : NULL,
        };
        if ((r = store_ref_write(s, &ref)) < 0) {
                roost_error_set(e, r, "writing the reference %s:%s", name, tag);
                goto out;
        }
        ret->format = format;
        memcpy(ret->digest, img.digest, sizeof(ret->digest));
        ret->n_layers = img.n_layers;
        ret->name = TAKE_PTR(name);
        ret->tag = TAKE_PTR(tag);
        if (!(ret->arch = strdup(img.arch)))
                r = -ENOMEM;
out:
        free(img.own_ref);
        free(img.sig);
        import_source_done(&src);
        if (src.fd >= 0 && src.fd != in)
                close(src.fd);
        if (spool_dir)
                rm_rf_at(store_dirfd(s), spool_dir);
        return r;
}
