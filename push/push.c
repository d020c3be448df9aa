/* push: a stored image to a registry, unchanged. What is sent is what the
 * store holds, byte for byte (layers, configs, manifests as they were
 * pulled, imported or committed), so the registry's digests are the
 * store's; only the index of a multi-platform image is written here, as
 * the store's index less its own roost.* annotations (local provenance:
 * where it came from, when it was stored). Blobs are read from their store
 * files as they are sent. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "push/push-private.h"
#include "store/json.h"

#define INDEX_MAX    (4u << 20)
#define MANIFEST_MAX (4u << 20)

/* One blob to send (a layer or a config), once however many manifests
 * name it. */
struct blob {
        char hex[STORE_SHA256_HEX + 1];
        uint64_t size;
        char *from; /* a repository of the same registry that has it, or NULL */
};

/* One platform's manifest, as stored. */
struct manifest {
        char hex[STORE_SHA256_HEX + 1];
        char *media_type;
        json_t *platform;
        char *body;
        size_t len;
};

struct job {
        store *s;
        const struct push_options *o;
        struct push_session g;
        struct blob *blobs;
        size_t n_blobs;
        struct manifest *manifests;
        size_t n_manifests;
        struct push_report *report;
};

void push_report_done(struct push_report *r)
{
        free(r->reference);
        *r = (struct push_report){ 0 };
}

int push_chunk_size_parse(const char *text, uint64_t *ret)
{
        char *end;
        if (!text || !*text || *text == '-')
                return -ROOST_EUSAGE;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        uint64_t mul = 1;
        if (*end == 'K' || *end == 'k')
                mul = 1024, end++;
        else if (*end == 'M' || *end == 'm')
                mul = 1024 * 1024, end++;
        else if (*end == 'G' || *end == 'g')
                mul = 1024 * 1024 * 1024, end++;
        if (errno || *end || end == text || v > (UINT64_C(4) << 30) / mul)
                return -ROOST_EUSAGE;
        v *= mul;
        if (v != 0 && (v < (1u << 20) || v > (UINT64_C(4) << 30)))
                return -ROOST_EUSAGE;
        *ret = v;
        return 0;
}

static int blob_add(struct job *j, const char *hex, uint64_t size)
{
        for (size_t i = 0; i < j->n_blobs; i++)
                if (!strcmp(j->blobs[i].hex, hex))
                        return 0;
        struct blob *n = realloc(j->blobs, (j->n_blobs + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        j->blobs = n;
        n[j->n_blobs] = (struct blob){ .size = size };
        snprintf(n[j->n_blobs].hex, sizeof(n->hex), "%s", hex);
        j->n_blobs++;
        return 0;
}

/* Platform manifest HEX (its platform PLATFORM, may be NULL): read, and
 * its config and layers listed. */
static int manifest_add(struct job *j, const char *hex, json_t *platform, roost_error *e)
{
        struct manifest *n = realloc(j->manifests, (j->n_manifests + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        j->manifests = n;
        struct manifest *m = &n[j->n_manifests++];
        *m = (struct manifest){ .platform = json_incref(platform) };
        snprintf(m->hex, sizeof(m->hex), "%s", hex);
        int r = store_blob_read(j->s, hex, MANIFEST_MAX, &m->body, &m->len);
        if (r < 0)
                return roost_error_set(e, r == -ENOENT ? -ROOST_EFORMAT : r, "reading the manifest sha256:%.12s",
                                       hex);
        _cleanup_json_ json_t *o = json_loadb(m->body, m->len, 0, NULL);
        const char *t = json_string_value(json_object_get(o, "mediaType"));
        if (!(m->media_type = strdup(t ? t : STORE_MEDIA_MANIFEST)))
                return -ENOMEM;
        _cleanup_store_ref_ struct store_ref img = { 0 };
        uint64_t size;
        if ((r = store_image_read(j->s, hex, &img)) < 0 || (r = store_blob_size(j->s, img.config, &size)) < 0)
                return roost_error_set(e, r == -ENOENT ? -ROOST_EFORMAT : r, "reading the image sha256:%.12s",
                                       hex);
        for (size_t i = 0; i < img.n_layers; i++)
                if ((r = blob_add(j, img.layers[i].digest, img.layers[i].size)) < 0)
                        return r;
        return blob_add(j, img.config, size);
}

/* IMAGE's platforms: ARCH's alone when asked, else every one its
 * reference's index lists. */
static int image_read(struct job *j, const char *image, struct store_ref *ref, roost_error *e)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        int r = registry_image_name(image, &name, &tag);
        if (r < 0)
                return fetch_fail(e, r == -ENOMEM ? r : -ROOST_EUSAGE, "'%s' is not a valid image name", image);
        const char *arch = j->o->arch ? j->o->arch : host_alpine_arch();
        r = arch ? store_ref_resolve(j->s, name, tag, arch, ref) : -ROOST_ENOTFOUND;
        if (r == -ROOST_ENOTFOUND && !j->o->arch) {
                /* Stored for other platforms only: any of them names the
                 * reference's index. */
                struct store_ref *all = NULL;
                size_t n = 0;
                if (store_ref_list(j->s, &all, &n, NULL) == 0)
                        for (size_t i = 0; i < n && r == -ROOST_ENOTFOUND; i++)
                                if (!strcmp(all[i].name, name) && (!tag || !strcmp(all[i].tag, tag)))
                                        r = store_ref_read(j->s, name, all[i].tag, all[i].arch, ref);
                store_ref_list_free(all, n);
        }
        if (r == -ROOST_ENOTFOUND)
                return fetch_fail(e, r, "%s: no such image in the store%s%s", image, j->o->arch ? " for " : "",
                                  j->o->arch ? j->o->arch : "");
        if (r < 0)
                return roost_error_set(e, r, "%s: reading the store", image);
        if (j->o->arch)
                return manifest_add(j, ref->digest, NULL, e);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if ((r = store_blob_read(j->s, ref->index, INDEX_MAX, &text, &len)) < 0)
                return roost_error_set(e, r, "%s: reading its index", image);
        _cleanup_json_ json_t *idx = json_loadb(text, len, 0, NULL);
        json_t *m;
        size_t i;
        json_array_foreach(json_object_get(idx, "manifests"), i, m) {
                const char *d = json_string_value(json_object_get(m, "digest"));
                if (!d || strncmp(d, "sha256:", 7) != 0 || !store_digest_valid(d + 7))
                        return fetch_fail(e, -ROOST_EFORMAT, "%s: its index cannot be read", image);
                if ((r = manifest_add(j, d + 7, json_object_get(m, "platform"), e)) < 0)
                        return r;
        }
        return j->n_manifests ? 0 : fetch_fail(e, -ROOST_EFORMAT, "%s: its index lists no image", image);
}

/* Where each blob may be mounted from: a repository of the destination's
 * registry other than the destination that holds it, as far as the store
 * knows (an image pulled from there, the image itself first). The
 * registry has the last word: a blob it cannot mount is uploaded. */
static int mounts_find(struct job *j, const char *own_name)
{
        struct store_ref *all = NULL;
        size_t n = 0;
        int r = store_ref_list(j->s, &all, &n, NULL);
        if (r < 0)
                return 0; /* no mount: every blob is uploaded, which is slower, not wrong */
        for (size_t k = 0; k <= n; k++) {
                /* The image's own name first, then the others. */
                const char *name = k == 0 ? own_name : all[k - 1].name;
                struct registry_ref rr;
                if (!registry_ref_is_remote(name) || registry_ref_parse(name, &rr) < 0)
                        continue;
                bool other = !strcmp(rr.registry, j->g.dest.registry) &&
                             strcmp(rr.repository, j->g.dest.repository) != 0;
                for (size_t b = 0; other && b < j->n_blobs; b++) {
                        struct blob *bl = &j->blobs[b];
                        bool has = k == 0;
                        for (size_t l = 0; !has && l < all[k - 1].n_layers; l++)
                                has = !strcmp(all[k - 1].layers[l].digest, bl->hex);
                        if (!has && k > 0)
                                has = all[k - 1].config && !strcmp(all[k - 1].config, bl->hex);
                        if (has && !bl->from) {
                                if ((r = push_session_add_pull_scope(&j->g, rr.repository)) < 0 ||
                                    !(bl->from = strdup(rr.repository))) {
                                        r = r < 0 ? r : -ENOMEM;
                                        break;
                                }
                        }
                }
                registry_ref_done(&rr);
                if (r < 0)
                        break;
        }
        store_ref_list_free(all, n);
        return r < 0 ? r : 0;
}

struct progress_ctx {
        const struct push_options *o;
        const char *step;
        uint64_t base, total;
};

static void upload_progress(void *userdata, uint64_t done, uint64_t total)
{
        struct progress_ctx *p = userdata;
        (void)total;
        p->o->progress(p->o->userdata, p->step, p->base + done, p->total);
}

/* A Location as the next request's URL: an absolute one as it is, a
 * path below the registry. */
static int location(struct job *j, const struct fetch_reply *rep, const char *what, char **ret, roost_error *e)
{
        const char *l = rep->location;
        if (!l || !*l || strpbrk(l, " \r\n") ||
            !(l[0] == '/' || !strncmp(l, "https://", 8) || (j->o->plain_http && !strncmp(l, "http://", 7))))
                return fetch_fail(e, -ROOST_EHTTP, "%s: %s gave no usable upload location", what,
                                  j->g.dest.registry);
        return (*ret = strdup(l)) ? 0 : -ENOMEM;
}

static char *with_digest(const char *url, const char *hex)
{
        char *s;
        return asprintf(&s, "%s%cdigest=sha256:%s", url, strchr(url, '?') ? '&' : '?', hex) < 0 ? NULL : s;
}

static const char *const octet[] = { "Content-Type: application/octet-stream", NULL };

/* PATCH the blob in chunks from OFFSET, then the closing PUT. A chunk
 * that breaks off is sent again from where the registry says the upload
 * stands (GET of the upload's URL, its Range). */
static int upload_chunked(struct job *j, const struct blob *b, int fd, char **url, struct progress_ctx *p,
                          struct fetch_reply *rep, roost_error *e)
{
        uint64_t off = 0, chunk = j->o->chunk_size, resumed = 0;
        int failures = 0;
        char what[96];
        snprintf(what, sizeof(what), "uploading blob sha256:%.12s", b->hex);
        while (off < b->size) {
                uint64_t n = b->size - off < chunk ? b->size - off : chunk;
                char range[64];
                snprintf(range, sizeof(range), "Content-Range: %llu-%llu", (unsigned long long)off,
                         (unsigned long long)(off + n - 1));
                const char *h[] = { octet[0], range, NULL };
                p->base = off;
                struct fetch_send s = { .method = "PATCH", .url = *url, .headers = h, .use_fd = true, .fd = fd,
                                        .offset = off, .len = n, .progress = p->o->progress ? upload_progress : NULL,
                                        .userdata = p };
                fetch_reply_done(rep);
                int r = push_session_send(&j->g, &s, false, rep, e);
                if (r == 0 && rep->status == 202) {
                        free(*url);
                        if ((r = location(j, rep, what, url, e)) < 0)
                                return r;
                        off += n;
                        continue;
                }
                bool transient = r < 0 ? rep->transient : rep->status >= 500;
                if (!transient || failures++ >= j->g.retries)
                        return r < 0 ? r : push_session_failed(&j->g, what, rep, e);
                if (j->o->warn) {
                        char line[sizeof(e->msg) + 64];
                        snprintf(line, sizeof(line), "%s; asking where the upload stands, retry %d of %d",
                                 r < 0 ? e->msg : what, failures, j->g.retries);
                        j->o->warn(j->o->userdata, line);
                }
                struct fetch_send st = { .method = "GET", .url = *url };
                fetch_reply_done(rep);
                if ((r = push_session_send(&j->g, &st, true, rep, e)) < 0)
                        return r;
                if (rep->status != 204)
                        return push_session_failed(&j->g, what, rep, e);
                unsigned long long first, last;
                off = rep->range && sscanf(rep->range, "%llu-%llu", &first, &last) == 2 && first == 0
                              ? last + 1
                              : 0;
                if (off > b->size)
                        return fetch_fail(e, -ROOST_EHTTP, "%s: %s says it has more bytes than the blob holds",
                                          what, j->g.dest.registry);
                /* Failures in a row are those the registry's own count of
                 * the upload did not pass: a chunk it accepted and then lost
                 * is no progress. */
                if (off > resumed) {
                        resumed = off;
                        failures = 0;
                }
                if (rep->location) {
                        free(*url);
                        if ((r = location(j, rep, what, url, e)) < 0)
                                return r;
                }
        }
        _cleanup_free_ char *put = with_digest(*url, b->hex);
        if (!put)
                return -ENOMEM;
        struct fetch_send s = { .method = "PUT", .url = put, .headers = octet };
        fetch_reply_done(rep);
        return push_session_send(&j->g, &s, false, rep, e);
}

/* One upload of B: a session (or a mount), the bytes, the closing PUT.
 * *FATE: mounted or uploaded. */
static int upload_once(struct job *j, struct blob *b, int fd, enum push_fate *fate, struct fetch_reply *rep,
                       roost_error *e)
{
        char what[96], path[512];
        snprintf(what, sizeof(what), "uploading blob sha256:%.12s", b->hex);
        int r = 0;
        fetch_reply_done(rep);
        if (b->from) {
                _cleanup_free_ char *from = registry_query_escape(b->from);
                if (!from)
                        return -ENOMEM;
                snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/?mount=sha256:%s&from=%s",
                         j->g.dest.repository, b->hex, from);
                struct fetch_send s = { .method = "POST", .url = path };
                if ((r = push_session_send(&j->g, &s, true, rep, e)) < 0)
                        return r;
                if (rep->status == 201) {
                        *fate = PUSH_MOUNTED;
                        return 0;
                }
                /* 202: the registry could not mount it and opened an upload
                 * instead; anything else (no pull on the source): upload. */
        }
        if (!b->from || rep->status != 202) {
                snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", j->g.dest.repository);
                struct fetch_send s = { .method = "POST", .url = path };
                fetch_reply_done(rep);
                if ((r = push_session_send(&j->g, &s, true, rep, e)) < 0)
                        return r;
                if (rep->status != 202)
                        return push_session_failed(&j->g, what, rep, e);
        }
        _cleanup_free_ char *url = NULL, *put = NULL;
        if ((r = location(j, rep, what, &url, e)) < 0)
                return r;
        *fate = PUSH_UPLOADED;
        char step[96];
        snprintf(step, sizeof(step), "uploading sha256:%.12s", b->hex);
        struct progress_ctx p = { .o = j->o, .step = step, .total = b->size };
        if (j->o->chunk_size && b->size > j->o->chunk_size) {
                if ((r = upload_chunked(j, b, fd, &url, &p, rep, e)) < 0)
                        return r;
        } else {
                if (!(put = with_digest(url, b->hex)))
                        return -ENOMEM;
                struct fetch_send s = { .method = "PUT", .url = put, .headers = octet, .use_fd = true, .fd = fd,
                                        .len = b->size, .progress = j->o->progress ? upload_progress : NULL,
                                        .userdata = &p };
                fetch_reply_done(rep);
                if ((r = push_session_send(&j->g, &s, false, rep, e)) < 0)
                        return r;
        }
        return rep->status == 201 ? 0 : push_session_failed(&j->g, what, rep, e);
}

/* B onto the registry unless it has it: HEAD, then a mount or an upload,
 * begun again from a new session when the connection breaks. */
static int blob_push(struct job *j, struct blob *b, roost_error *e)
{
        char path[512], what[96];
        snprintf(path, sizeof(path), "/v2/%s/blobs/sha256:%s", j->g.dest.repository, b->hex);
        snprintf(what, sizeof(what), "checking blob sha256:%.12s", b->hex);
        struct fetch_reply rep = { 0 };
        struct fetch_send head = { .method = "HEAD", .url = path };
        int r = push_session_send(&j->g, &head, true, &rep, e);
        enum push_fate fate = PUSH_PRESENT;
        if (r == 0 && rep.status != 200 && rep.status != 404)
                r = push_session_failed(&j->g, what, &rep, e);
        if (r == 0 && rep.status == 404) {
                _cleanup_close_ int fd = store_blob_open(j->s, b->hex);
                if (fd < 0)
                        r = roost_error_set(e, fd == -ENOENT ? -ROOST_EFORMAT : fd, "reading blob sha256:%.12s",
                                            b->hex);
                for (int failures = 0; r == 0;) {
                        r = upload_once(j, b, fd, &fate, &rep, e);
                        bool transient = r == -ROOST_ENETWORK;
                        if (r == 0 || !transient || failures++ >= j->g.retries)
                                break;
                        if (j->o->warn) {
                                char line[sizeof(e->msg) + 64];
                                snprintf(line, sizeof(line), "%s; upload begun again, retry %d of %d", e->msg,
                                         failures, j->g.retries);
                                j->o->warn(j->o->userdata, line);
                        }
                        r = 0;
                }
        }
        fetch_reply_done(&rep);
        if (r < 0)
                return r;
        if (fate == PUSH_PRESENT)
                j->report->present++;
        else if (fate == PUSH_MOUNTED)
                j->report->mounted++;
        else {
                j->report->uploaded++;
                j->report->bytes_uploaded += b->size;
        }
        if (j->o->blob)
                j->o->blob(j->o->userdata, b->hex, b->size, fate, fate == PUSH_MOUNTED ? b->from : NULL);
        return 0;
}

/* PUT a manifest (or index) BODY of MEDIA_TYPE under REFERENCE (a tag,
 * or sha256:HEX), whose digest is HEX. */
static int manifest_put(struct job *j, const char *reference, const char *media_type, const char *body,
                        size_t len, const char *hex, roost_error *e)
{
        char path[512], what[128], type[160];
        snprintf(path, sizeof(path), "/v2/%s/manifests/%s", j->g.dest.repository, reference);
        snprintf(what, sizeof(what), "putting the manifest sha256:%.12s", hex);
        snprintf(type, sizeof(type), "Content-Type: %s", media_type);
        const char *h[] = { type, NULL };
        struct fetch_send s = { .method = "PUT", .url = path, .headers = h, .buf = body, .len = len };
        struct fetch_reply rep = { 0 };
        int r = push_session_send(&j->g, &s, true, &rep, e);
        if (r == 0 && rep.status != 201)
                r = push_session_failed(&j->g, what, &rep, e);
        if (r == 0 && rep.digest && (strncmp(rep.digest, "sha256:", 7) != 0 || strcmp(rep.digest + 7, hex) != 0)) {
                char said[81]; /* the registry's text: printable */
                snprintf(said, sizeof(said), "%s", rep.digest);
                for (char *p = said; *p; p++)
                        if (!isprint((unsigned char)*p))
                                *p = ' ';
                r = fetch_fail(e, -ROOST_EDIGEST, "%s: %s stored it as %s", what, j->g.dest.registry, said);
        }
        fetch_reply_done(&rep);
        return r;
}

/* The index of the platforms pushed: the store's entries, less its own
 * annotations. Sorted keys, no whitespace. */
static int index_make(struct job *j, char **ret, char hex[STORE_SHA256_HEX + 1])
{
        _cleanup_json_ json_t *list = json_array();
        for (size_t i = 0; list && i < j->n_manifests; i++) {
                struct manifest *m = &j->manifests[i];
                json_t *d = json_pack("{s:s, s:s+, s:I}", "mediaType", m->media_type, "digest", "sha256:", m->hex,
                                      "size", (json_int_t)m->len);
                if (!d || (m->platform && json_object_set(d, "platform", m->platform) < 0) ||
                    json_array_append_new(list, d) < 0)
                        return -ENOMEM;
        }
        _cleanup_json_ json_t *o =
                list ? json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", STORE_MEDIA_INDEX, "manifests",
                                 list)
                     : NULL;
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!text)
                return -ENOMEM;
        _cleanup_store_hash_ store_hash *h = NULL;
        int r = store_hash_new(&h);
        if (r == 0)
                store_hash_skip_sha512(h);
        if (r < 0 || (r = store_hash_update(h, text, strlen(text))) < 0 || (r = store_hash_peek(h, hex, NULL)) < 0) {
                free(text);
                return r;
        }
        *ret = text;
        return 0;
}

int push_image(store *s, const char *image, const char *dest, const struct push_options *o,
               struct push_report *ret, roost_error *e)
{
        struct job j = { .s = s, .o = o, .report = ret };
        _cleanup_store_ref_ struct store_ref ref = { 0 };
        *ret = (struct push_report){ 0 };
        int r = push_session_open(&j.g, dest, o, e);
        if (r == 0)
                r = image_read(&j, image, &ref, e);
        if (r == 0)
                r = mounts_find(&j, ref.name);
        for (size_t i = 0; r == 0 && i < j.n_blobs; i++)
                r = blob_push(&j, &j.blobs[i], e);
        if (r == 0 && j.n_manifests == 1) {
                struct manifest *m = &j.manifests[0];
                r = manifest_put(&j, j.g.dest.tag, m->media_type, m->body, m->len, m->hex, e);
                memcpy(ret->digest, m->hex, sizeof(ret->digest));
        } else if (r == 0) {
                char ref_by_digest[80];
                for (size_t i = 0; r == 0 && i < j.n_manifests; i++) {
                        struct manifest *m = &j.manifests[i];
                        snprintf(ref_by_digest, sizeof(ref_by_digest), "sha256:%s", m->hex);
                        r = manifest_put(&j, ref_by_digest, m->media_type, m->body, m->len, m->hex, e);
                }
                _cleanup_free_ char *index = NULL;
                if (r == 0 && (r = index_make(&j, &index, ret->digest)) == 0)
                        r = manifest_put(&j, j.g.dest.tag, STORE_MEDIA_INDEX, index, strlen(index), ret->digest, e);
                ret->index = true;
        }
        ret->manifests = (unsigned)j.n_manifests;
        if (r == 0 && asprintf(&ret->reference, "%s:%s", j.g.dest.name, j.g.dest.tag) < 0) {
                ret->reference = NULL;
                r = -ENOMEM;
        }
        for (size_t i = 0; i < j.n_blobs; i++)
                free(j.blobs[i].from);
        free(j.blobs);
        for (size_t i = 0; i < j.n_manifests; i++) {
                free(j.manifests[i].media_type);
                free(j.manifests[i].body);
                json_decref(j.manifests[i].platform);
        }
        free(j.manifests);
        push_session_close(&j.g);
        return r;
}
