/* fetch_pull: the straight line from a name and a tag to verified blobs
 * and a reference in the store, the same for every source (source.h). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/util.h"
#include "fetch/source.h"

static const struct fetch_source *const sources[] = {
        &fetch_source_registry,
        &fetch_source_alpine,
};

int fetch_job_connect(struct fetch_job *j, bool allow_file, roost_error *e)
{
        const struct fetch_options *o = j->o;
        struct fetch_http_config hc = {
                .cacert = o->cacert,
                .allow_file = allow_file,
                .allow_http = j->allow_http,
                .retries = o->retries,
                .timeout = o->timeout,
                .progress = o->progress,
                .warn = o->warn,
                .userdata = o->userdata,
        };
        return fetch_http_new(&hc, &j->http, e);
}

void fetch_job_step(const struct fetch_job *j, const char *what, uint64_t done, uint64_t total)
{
        if (j->o->progress)
                j->o->progress(j->o->userdata, what, done, total);
}

int fetch_image_layers(struct fetch_image *img, size_t n)
{
        struct fetch_desc *l = calloc(n, sizeof(*l));
        if (!l)
                return -ENOMEM;
        img->layers = l;
        img->n_layers = n;
        return 0;
}

void fetch_image_done(struct fetch_image *img)
{
        for (size_t i = 0; i < img->n_layers; i++) {
                struct fetch_desc *d = &img->layers[i];
                free(d->name);
                free(d->url);
                free(d->sha256);
                free(d->sha512);
                free(d->sig_url);
                free(d->sig_sha256);
                free(d->signer);
        }
        free(img->layers);
        free(img->version);
        free(img->source);
        *img = (struct fetch_image){ 0 };
}

static void job_done(struct fetch_job *j)
{
        if (j->source && j->source->done)
                j->source->done(j);
        fetch_http_free(j->http);
        trust_keys_free(j->keys);
        fetch_image_done(&j->image);
}

#define SIG_MAX (64u << 10) /* a detached signature is a few hundred bytes */
/* How much of a tarball may be written before its signature has come
 * (docs/pull.md, "Round trips"): read back once into the check then. */
#define SIG_HOLD (1u << 20)

/* A missing signature (MISSING says how it was found missing): nothing,
 * when unsigned releases are let in, else the refusal. */
static int unsigned_release(const struct fetch_job *j, const struct fetch_desc *d, const roost_error *missing,
                            roost_error *e)
{
        if (j->allow_unsigned)
                return 0;
        if (!d->sig_url)
                return fetch_fail(e, -ROOST_ESIGNATURE,
                                  "%s: its source offers no signature; refused (--allow-unsigned accepts it, "
                                  "marked unsigned)",
                                  d->name);
        return fetch_fail(e, -ROOST_ESIGNATURE,
                          "%s: the mirror serves no signature (%s); refused (--allow-unsigned accepts it, "
                          "marked unsigned)",
                          d->name, missing->msg);
}

/* The signature of D, or none (*ret NULL) when its source has none to
 * offer or the mirror answers 404: then the release is refused unless
 * unsigned ones are let in. Any other failure is the transfer's. */
static int get_signature(struct fetch_job *j, const struct fetch_desc *d, char **ret, size_t *ret_len,
                         roost_error *e)
{
        *ret = NULL;
        *ret_len = 0;
        if (j->source->by_digest)
                return 0;
        roost_error missing = { "" };
        int r = d->sig_url ? fetch_http_get_bytes(j->http, d->sig_url, SIG_MAX, ret, ret_len, &missing)
                           : -ROOST_ENOTFOUND;
        if (r == 0 || r != -ROOST_ENOTFOUND) {
                if (r < 0)
                        *e = missing;
                return r;
        }
        return unsigned_release(j, d, &missing, e);
}

/* The signature check beside a download: store_blob_tee hands it every
 * byte of the blob, a resumed partial file's first. */
struct sig_tee {
        trust_keys *keys;
        const char *sig;
        size_t len;
        trust_check *c;
};

static int sig_tee_write(void *userdata, const void *buf, size_t n)
{
        struct sig_tee *t = userdata;
        if (!buf) {
                /* The blob starts again from nothing: so does the check. */
                roost_error ignored;
                trust_check_abort(t->c);
                t->c = NULL;
                int r = trust_check_begin(t->keys, t->sig, t->len, &t->c, &ignored);
                return r == -ROOST_ESIGNATURE ? 0 : r; /* an empty file: end says so */
        }
        return t->c ? trust_check_update(t->c, buf, n) : 0;
}

/* The signature over a blob stored already (a new reference to it, or
 * --refresh): checked over the stored bytes. */
static int check_stored(struct fetch_job *j, const struct fetch_desc *d, const char *sig, size_t len,
                        struct trust_verdict *v, roost_error *e)
{
        _cleanup_close_ int fd = store_blob_open(j->s, d->sha256);
        if (fd < 0)
                return roost_error_set(e, fd, "reading the stored %s", d->name);
        roost_error why;
        int r = trust_check_fd(j->keys, sig, len, fd, v, &why);
        if (r < 0)
                return fetch_fail(e, r, "verifying %s: signature: %s", d->name, why.msg);
        return 0;
}

/* Keep the signature that verified as a blob of its own, and what it said
 * in D for the reference. */
static int keep_signature(struct fetch_job *j, struct fetch_desc *d, const char *sig, size_t len,
                          const struct trust_verdict *v, roost_error *e)
{
        char hex[STORE_SHA256_HEX + 1];
        int r = store_blob_put(j->s, sig, len, hex);
        if (r < 0)
                return roost_error_set(e, r, "storing the signature of %s", d->name);
        free(d->sig_sha256);
        free(d->signer);
        d->signer = NULL;
        if (!(d->sig_sha256 = strdup(hex)) || !(d->signer = strdup(v->signer)))
                return -ENOMEM;
        /* The signature proves the bytes; an index's SHA-512 that roost did
         * not compute is not recorded as if it had been. */
        free(d->sha512);
        d->sha512 = NULL;
        return 0;
}

/* A signature asked for beside its tarball, on the same connection
 * (fetch_http_side_begin): the tarball's first bytes go into the partial
 * blob meanwhile, and the check starts on them when the signature comes. */
struct sig_side {
        struct fetch_job *j;
        const struct fetch_desc *d;
        bool pending;  /* asked for beside the tarball, fetch_http_side_wait not called yet */
        char *sig;     /* once it has come; NULL: none (unsigned, let in) */
        size_t len;
        store_blob *b; /* the blob being written, once begun */
        struct sig_tee *tee;
};

/* Start the check over B, from its first byte (those written already are
 * read back once), and compute no SHA-512 from now on. */
static int start_check(store_blob *b, struct sig_tee *tee, const struct fetch_desc *d, roost_error *e)
{
        roost_error why;
        int r = trust_check_begin(tee->keys, tee->sig, tee->len, &tee->c, &why);
        if (r < 0)
                return fetch_fail(e, r, "verifying %s: signature: %s", d->name, why.msg);
        if ((r = store_blob_tee(b, sig_tee_write, tee)) < 0) {
                trust_check_abort(tee->c);
                tee->c = NULL;
                return roost_error_set(e, r, "reading back the partial %s", d->name);
        }
        store_blob_skip_sha512(b);
        return 0;
}

#define SIG_AGAIN (-EAGAIN) /* the side request failed: asked again, one after another */

static int sig_arrived(void *userdata, int r, char **body, size_t len, const roost_error *why, roost_error *e)
{
        struct sig_side *ss = userdata;
        if (r == -ROOST_ENOTFOUND)
                return unsigned_release(ss->j, ss->d, why, e);
        if (r < 0)
                return SIG_AGAIN;
        ss->sig = TAKE_PTR(*body);
        ss->len = len;
        ss->tee->sig = ss->sig;
        ss->tee->len = len;
        return ss->b ? start_check(ss->b, ss->tee, ss->d, e) : 0;
}

/* The side request's end: its callback has run, or runs now. One that
 * failed is asked again, with retries, as the only request; the check
 * then starts on what the blob holds. */
static int sig_settle(struct sig_side *ss, roost_error *e)
{
        if (!ss->pending)
                return 0;
        ss->pending = false;
        int r = fetch_http_side_wait(ss->j->http, e);
        if (r != SIG_AGAIN)
                return r;
        if ((r = get_signature(ss->j, ss->d, &ss->sig, &ss->len, e)) < 0)
                return r;
        ss->tee->sig = ss->sig;
        ss->tee->len = ss->len;
        return ss->sig && ss->b ? start_check(ss->b, ss->tee, ss->d, e) : 0;
}

static void sig_side_done(struct sig_side *ss)
{
        /* An early return: the request's callback must not run after
         * this frame is gone. */
        if (ss->pending)
                fetch_http_side_cancel(ss->j->http);
        free(ss->sig);
}

static int download(struct fetch_job *j, struct fetch_desc *d, roost_error *e)
{
        _cleanup_store_blob_ store_blob *b = NULL;
        struct trust_verdict v = { 0 };
        struct sig_tee tee = { .keys = j->keys };
        _cleanup_(sig_side_done) struct sig_side ss = { .j = j, .d = d, .tee = &tee };
        char what[300];
        int r = 0;
        /* The signature beside the tarball where the connection carries
         * both at once (HTTP/2), else first. */
        if (!j->source->by_digest && d->sig_url)
                r = fetch_http_side_begin(j->http, d->sig_url, SIG_MAX, SIG_HOLD, sig_arrived, &ss);
        if (r < 0)
                return roost_error_set(e, r, "fetching the signature of %s", d->name);
        ss.pending = r > 0;
        if (!ss.pending && (r = get_signature(j, d, &ss.sig, &ss.len, e)) < 0)
                return r;
        snprintf(what, sizeof(what), "downloading %s", d->name);
        fetch_job_step(j, what, 0, d->size);
        /* Waits while another pull of the same bytes holds the partial
         * file, and finds the blob stored when it is done. */
        r = store_blob_begin_layer(j->s, d->sha256, d->gzip, &b);
        if (r < 0)
                return roost_error_set(e, r, "storing %s", d->name);
        if (r > 0) {
                /* Stored already under this sha256: the index's size and
                 * the signature (else its sha512), which the reference
                 * will record, must hold for it too. */
                uint64_t size;
                if ((r = sig_settle(&ss, e)) < 0)
                        return r;
                if ((r = store_blob_size(j->s, d->sha256, &size)) < 0)
                        return roost_error_set(e, r, "storing %s", d->name);
                if (d->size && size != d->size)
                        return fetch_fail(e, -ROOST_ESIZE,
                                          "verifying %s: the index says %llu bytes, the stored archive with "
                                          "its sha256 has %llu",
                                          d->name, (unsigned long long)d->size, (unsigned long long)size);
                if (ss.sig) {
                        if ((r = check_stored(j, d, ss.sig, ss.len, &v, e)) < 0 ||
                            (r = keep_signature(j, d, ss.sig, ss.len, &v, e)) < 0)
                                return r;
                } else if (d->sha512 && (r = store_blob_verify(j->s, d->sha256, d->sha512)) < 0)
                        return fetch_fail(e, r, "verifying %s: %s", d->name,
                                          r == -ROOST_EDIGEST
                                                  ? "the stored archive does not match the index's "
                                                    "sha512"
                                                  : roost_strerror(r));
                fetch_job_step(j, what, d->size, d->size);
                if (!d->size)
                        d->size = size;
                return 0;
        }
        uint64_t off = store_blob_offset(b);
        if (d->size && off > d->size) {
                /* More than the index announces: not a partial download of
                 * this file. Start again from nothing. */
                if ((r = store_blob_restart(b)) < 0)
                        return roost_error_set(e, r, "storing %s", d->name);
                off = 0;
        }
        /* The signature is checked over the bytes as they are written (a
         * resumed file's, and those that came before the signature, are
         * read back once); with it, roost's own SHA-512 would prove
         * nothing more, and is not computed. */
        tee.sig = ss.sig;
        tee.len = ss.len;
        if (ss.sig && (r = start_check(b, &tee, d, e)) < 0)
                return r;
        if (j->source->by_digest)
                store_blob_skip_sha512(b);
        ss.b = b;
        r = 0;
        if (!d->size || off < d->size)
                r = j->source->fetch_blob(j, d, what, b, e);
        if (ss.pending) {
                roost_error why;
                int rs = sig_settle(&ss, &why);
                if (rs < 0) {
                        /* Refused, or no signature to be had: the bytes
                         * are kept for a resume only in the latter case. */
                        trust_check_abort(tee.c);
                        store_blob_abort(TAKE_PTR(b), rs == -ROOST_ENETWORK);
                        *e = why;
                        return rs;
                }
                if (r == SIG_AGAIN) /* stopped for the signature: the rest by range */
                        r = j->source->fetch_blob(j, d, what, b, e);
        }
        if (r < 0) {
                trust_check_abort(tee.c);
                /* Bytes that came in before a network failure are
                 * good for a resume; too many bytes are not. */
                store_blob_abort(TAKE_PTR(b), r != -ROOST_ESIZE && r != -ROOST_EHTTP);
                return r;
        }
        if ((r = store_blob_written(b)) < 0) {
                trust_check_abort(tee.c);
                store_blob_abort(TAKE_PTR(b), true);
                return roost_error_set(e, r, "storing %s", d->name);
        }
        char sha256[STORE_SHA256_HEX + 1], sha512[STORE_SHA512_HEX + 1];
        snprintf(what, sizeof(what), "verifying %s", d->name);
        fetch_job_step(j, what, 0, 0);
        bool want512 = !ss.sig && !j->source->by_digest;
        r = store_blob_digests(b, sha256, want512 ? sha512 : NULL);
        if (r < 0) {
                trust_check_abort(tee.c);
                store_blob_abort(TAKE_PTR(b), true);
                return roost_error_set(e, r, "verifying %s", d->name);
        }
        if (strcmp(sha256, d->sha256) != 0) {
                trust_check_abort(tee.c);
                return fetch_fail(e, -ROOST_EDIGEST,
                                  "verifying %s: sha256 mismatch (expected %.16s…, got %.16s…)", d->name,
                                  d->sha256, sha256);
        }
        if (ss.sig) {
                roost_error why;
                r = trust_check_end(TAKE_PTR(tee.c), &v, &why);
                if (r < 0)
                        return fetch_fail(e, r, "verifying %s: signature: %s", d->name, why.msg);
        } else if (d->sha512 && strcmp(sha512, d->sha512) != 0)
                return fetch_fail(e, -ROOST_EDIGEST,
                                  "verifying %s: sha512 mismatch (expected %.16s…, got %.16s…)", d->name,
                                  d->sha512, sha512);
        if (!d->size)
                d->size = store_blob_offset(b);
        r = store_blob_commit(TAKE_PTR(b));
        if (r < 0)
                return roost_error_set(e, r, "storing %s", d->name);
        if (ss.sig)
                return keep_signature(j, d, ss.sig, ss.len, &v, e);
        if (!want512)
                return 0;
        /* What the reference records: the bytes' own, equal to the
         * published one where there is one. */
        free(d->sha512);
        if (!(d->sha512 = strdup(sha512)))
                return -ENOMEM;
        return 0;
}

/* How many layers a by-digest source's image fetches at once: docker's
 * default (max-concurrent-downloads). */
#define LAYERS_AT_ONCE 3

struct layer {
        struct fetch_desc *d;
        store_blob *b; /* NULL: stored already, or committed */
        struct fetch_http_dl dl;
        bool fetch;
};

static int layer_cmp(const void *a, const void *b)
{
        return strcmp(((const struct layer *)a)->d->sha256, ((const struct layer *)b)->d->sha256);
}

/* The layers of a source that can hand them to the transport at once
 * (prepare_blobs; a registry's, proven by their SHA-256 alone):
 * up to LAYERS_AT_ONCE downloads side by side, each hashed as it streams;
 * one that fails is resumed alone through fetch_blob, with its retries.
 * The blobs are committed only once all are verified, so a failed layer
 * publishes none of them; a network failure's bytes are kept for a resume. */
static int download_layers(struct fetch_job *j, roost_error *e)
{
        size_t n = j->image.n_layers, k = 0;
        _cleanup_free_ struct layer *l = calloc(n, sizeof(*l));
        _cleanup_free_ struct fetch_http_dl *dl = calloc(n, sizeof(*dl));
        char what[300];
        int r = 0;
        bool keep = true; /* the bytes of the layer that failed, for a resume */
        size_t failed = SIZE_MAX;
        if (!l || !dl)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                l[i].d = &j->image.layers[i];
        /* Partial files are locked in one order, the digests', by every
         * pull: two pulls of images that share layers never wait on each
         * other in a circle. */
        qsort(l, n, sizeof(*l), layer_cmp);
        for (size_t i = 0; i < n && r == 0; i++) {
                struct fetch_desc *d = l[i].d;
                uint64_t size;
                /* A layer twice in one image (an empty one, often): once
                 * is enough, and a second lock on its partial file would
                 * wait for ever on the first. */
                if (i > 0 && strcmp(d->sha256, l[i - 1].d->sha256) == 0)
                        continue;
                r = store_blob_begin_layer(j->s, d->sha256, d->gzip, &l[i].b);
                if (r < 0) {
                        r = roost_error_set(e, r, "storing %s", d->name);
                        break;
                }
                if (r > 0) { /* stored already, whoever brought it */
                        r = 0;
                        if ((r = store_blob_size(j->s, d->sha256, &size)) < 0)
                                r = roost_error_set(e, r, "storing %s", d->name);
                        else if (d->size && size != d->size)
                                r = fetch_fail(e, -ROOST_ESIZE,
                                               "verifying %s: %llu bytes announced, the stored blob with its "
                                               "sha256 has %llu",
                                               d->name, (unsigned long long)d->size, (unsigned long long)size);
                        else if (!d->size)
                                d->size = size;
                        continue;
                }
                store_blob_skip_sha512(l[i].b);
                uint64_t off = store_blob_offset(l[i].b);
                if (d->size && off > d->size && (r = store_blob_restart(l[i].b)) < 0) {
                        r = roost_error_set(e, r, "storing %s", d->name);
                        break;
                }
                if (d->size && off == d->size)
                        continue; /* all there from an earlier attempt: only verified */
                l[i].fetch = true;
                l[i].dl = (struct fetch_http_dl){ .url = d->url, .blob = l[i].b, .size = d->size };
                k++;
        }
        if (r < 0)
                goto fail;
        if (k > 0) {
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                        if (l[i].fetch)
                                dl[m++] = l[i].dl;
                snprintf(what, sizeof(what), "downloading %zu layer%s of %s:%s", k, k == 1 ? "" : "s", j->name,
                         j->tag);
                fetch_job_step(j, what, 0, 0);
                if ((r = j->source->prepare_blobs(j, e)) < 0 ||
                    (r = fetch_http_download_set(j->http, dl, k, LAYERS_AT_ONCE, what)) < 0)
                        goto fail;
                for (size_t i = 0, x = 0; i < n; i++)
                        if (l[i].fetch)
                                l[i].dl = dl[x++];
        }
        for (size_t i = 0; i < n; i++) {
                struct fetch_desc *d = l[i].d;
                if (!l[i].fetch || l[i].dl.r == 0)
                        continue;
                /* Too many bytes, or a refusal: none of them are worth a
                 * resume. A 401 is the source's to answer (a new token). */
                if ((l[i].dl.r == -ROOST_ESIZE || (l[i].dl.r == -ROOST_EHTTP && l[i].dl.status != 401)) &&
                    (r = store_blob_restart(l[i].b)) < 0) {
                        r = roost_error_set(e, r, "storing %s", d->name);
                        failed = i, keep = false;
                        goto fail;
                }
                if (l[i].dl.r == -ROOST_ENETWORK && j->o->warn) {
                        char line[sizeof(l[i].dl.e.msg) + 32];
                        snprintf(line, sizeof(line), "%s; retrying it alone", l[i].dl.e.msg);
                        j->o->warn(j->o->userdata, line);
                }
                snprintf(what, sizeof(what), "downloading %s", d->name);
                fetch_job_step(j, what, store_blob_offset(l[i].b), d->size);
                if ((r = j->source->fetch_blob(j, d, what, l[i].b, e)) < 0) {
                        failed = i, keep = r != -ROOST_ESIZE && r != -ROOST_EHTTP;
                        goto fail;
                }
        }
        for (size_t i = 0; i < n; i++) {
                struct fetch_desc *d = l[i].d;
                char sha256[STORE_SHA256_HEX + 1];
                if (!l[i].b)
                        continue;
                if ((r = store_blob_written(l[i].b)) < 0) {
                        r = roost_error_set(e, r, "storing %s", d->name);
                        failed = i;
                        goto fail;
                }
                snprintf(what, sizeof(what), "verifying %s", d->name);
                fetch_job_step(j, what, 0, 0);
                if ((r = store_blob_digests(l[i].b, sha256, NULL)) < 0) {
                        r = roost_error_set(e, r, "verifying %s", d->name);
                        failed = i;
                        goto fail;
                }
                if (strcmp(sha256, d->sha256) != 0) {
                        r = fetch_fail(e, -ROOST_EDIGEST,
                                       "verifying %s: sha256 mismatch (expected %.16s…, got %.16s…)", d->name,
                                       d->sha256, sha256);
                        failed = i, keep = false;
                        goto fail;
                }
                if (!d->size)
                        d->size = store_blob_offset(l[i].b);
        }
        for (size_t i = 0; i < n; i++) {
                if (l[i].b && (r = store_blob_commit(TAKE_PTR(l[i].b))) < 0) {
                        r = roost_error_set(e, r, "storing %s", l[i].d->name);
                        goto fail;
                }
        }
        return 0;
fail:
        for (size_t i = 0; i < n; i++)
                if (l[i].b)
                        store_blob_abort(TAKE_PTR(l[i].b), i != failed || keep);
        return r;
}

/* Without --refresh a stored reference whose blobs are present is enough:
 * blobs are published only after verification and are read-only, and
 * `roost verify` re-hashes them on demand. */
static int stored(struct fetch_job *j, struct store_ref *ret)
{
        _cleanup_store_ref_ struct store_ref ref = { 0 };
        uint64_t size, total = 0;
        if (store_ref_read(j->s, j->name, j->tag, j->arch, &ref) < 0)
                return 0;
        for (size_t i = 0; i < ref.n_layers; i++) {
                if (store_blob_size(j->s, ref.layers[i].digest, &size) < 0) {
                        total = UINT64_MAX;
                        break;
                }
                total += size;
        }
        if (ref.n_layers == 0 || total != ref.size)
                return 0;
        *ret = TAKE_STRUCT(ref);
        return 1;
}

int fetch_pull(store *s, const char *name, const char *tag, const struct fetch_options *o,
               struct store_ref *ret, roost_error *e)
{
        roost_error local;
        if (!e)
                e = &local;
        e->msg[0] = 0;
        if (!name || !store_ref_name_valid(name))
                return fetch_fail(e, -ROOST_EUSAGE, "'%s' is not a valid image name", name ? name : "");
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                if (sources[i]->serves(name))
                        return fetch_job_run(sources[i], s, name, tag, o, ret, e);
        return fetch_fail(e, -ROOST_ENOTFOUND,
                          "unknown image '%s': only alpine and registry references "
                          "(REGISTRY/REPOSITORY[:TAG]) are available",
                          name);
}

int fetch_job_run(const struct fetch_source *source, store *s, const char *name, const char *tag,
                  const struct fetch_options *o, struct store_ref *ret, roost_error *e)
{
        const struct fetch_options none = { .retries = -1 };
        _cleanup_(job_done) struct fetch_job j = {
                .source = source,
                .s = s,
                .o = o ? o : &none,
                .name = name,
                .tag = tag && *tag ? tag : source->default_tag,
        };
        int r;
        o = j.o;

        if ((r = j.source->begin(&j, e)) < 0)
                return r;
        j.arch = o->arch ? o->arch : host_alpine_arch();
        if (!j.arch)
                return fetch_fail(e, -ROOST_EUSAGE, "unknown host architecture: name one with --arch");
        if (!store_arch_valid(j.arch))
                return fetch_fail(e, -ROOST_EUSAGE, "'%s' is not a valid architecture", j.arch);

        if ((!o->refresh || o->offline) && stored(&j, ret))
                return 0;
        if (o->offline)
                return fetch_fail(e, -ROOST_ENOTFOUND,
                                  "%s:%s (%s) is not stored, and the network is off limits", name, j.tag,
                                  j.arch);

        /* The keys are read before any request: librnp wants them loaded
         * before threads start (curl's resolver, the hashing). */
        const char *allow = getenv("ROOST_ALLOW_UNSIGNED");
        j.allow_unsigned = o->allow_unsigned || (allow && !strcmp(allow, "1"));
        if ((r = trust_keys_load(o->trust, o->n_trust, &j.keys, e)) < 0)
                return r;
        if ((r = j.source->resolve(&j, e)) < 0)
                return r;
        uint64_t size = 0;
        if (source->prepare_blobs && j.image.n_layers > 1 && (r = download_layers(&j, e)) < 0)
                return r;
        for (size_t i = 0; i < j.image.n_layers; i++) {
                if ((!source->prepare_blobs || j.image.n_layers == 1) &&
                    (r = download(&j, &j.image.layers[i], e)) < 0)
                        return r;
                size += j.image.layers[i].size;
        }
        char digest[STORE_SHA256_HEX + 1];
        if ((r = j.source->publish(&j, digest, e)) < 0)
                return r;

        struct store_ref ref = {
                .name = (char *)name,
                .tag = (char *)j.tag,
                .arch = (char *)j.arch,
                .version = j.image.version,
                .source = j.image.source,
                .digest = digest,
                .sha512 = j.image.n_layers == 1 ? j.image.layers[0].sha512 : NULL,
                /* The verdict is the store's own record, for a one-layer
                 * image (a release); each layer of a larger one was held
                 * to the same policy. */
                .verdict = j.image.n_layers != 1 || source->by_digest ? NULL
                           : j.image.layers[0].sig_sha256 ? (char *)"signed"
                                                          : (char *)"unsigned",
                .signature = j.image.n_layers == 1 ? j.image.layers[0].sig_sha256 : NULL,
                .signer = j.image.n_layers == 1 ? j.image.layers[0].signer : NULL,
                .size = size,
                .created = (int64_t)time(NULL),
        };
        if ((r = store_ref_write(s, &ref)) < 0)
                return roost_error_set(e, r, "writing reference %s:%s", name, j.tag);
        if ((r = store_ref_read(s, name, j.tag, j.arch, ret)) < 0)
                return roost_error_set(e, r, "reading reference %s:%s back", name, j.tag);
        return 0;
}
