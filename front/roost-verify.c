/* roost verify: every stored blob against its digest, each unpacked
 * tree against its manifest, and a signed release's signature again. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/util.h"
#include "front/roost-cli.h"
#include "trust/trust.h"

struct damage {
        const struct store_ref *ref;
};

static void report_damage(void *userdata, const char *path, const char *what)
{
        const struct store_ref *ref = ((struct damage *)userdata)->ref;
        cli_error("verify: %s:%s: tree: /%s: %s%s", ref->name, ref->tag, path, what,
                  !strcmp(what, "missing") || !strcmp(what, "unexpected") ? "" : " changed");
}

static bool arch_not_host(const struct store_ref *ref)
{
        const char *host = host_alpine_arch();
        return !host || strcmp(host, ref->arch) != 0;
}

static int verify_tree(store *s, const struct store_ref *ref, const char *layer, bool quiet)
{
        if (!store_tree_exists(s, layer))
                return 0;
        struct damage d = { ref };
        int r = store_manifest_check(s, layer, report_damage, &d);
        if (r < 0) {
                cli_error("verify: %s:%s: tree: %s", ref->name, ref->tag,
                          r == -ENOENT ? "no manifest; run roost gc and unpack it again" : roost_strerror(r));
                return EXIT_VERIFY;
        }
        if (r > 0) {
                cli_error("verify: %s:%s: repair the tree from its archive with: roost unpack --force %s:%s%s%s",
                          ref->name, ref->tag, ref->name, ref->tag, arch_not_host(ref) ? " --arch " : "",
                          arch_not_host(ref) ? ref->arch : "");
                return EXIT_VERIFY;
        }
        if (!quiet)
                printf("%s:%s (%s): tree ok\n", ref->name, ref->tag, ref->arch);
        return 0;
}

/* The signature pull stored beside REF's layer, checked again over the
 * stored bytes: a verdict is the store's record, and this re-derives it.
 * *KEYS is loaded on first use. */
static int verify_signature(store *s, const struct roost_args *a, const struct store_ref *ref, trust_keys **keys)
{
        roost_error e = { "" };
        int r = 0;
        if (!*keys && (r = trust_keys_load(a->trust, a->n_trust, keys, &e)) < 0) {
                cli_error("verify: %s", e.msg);
                return roost_exit_code(r);
        }
        _cleanup_free_ char *sig = NULL;
        size_t len = 0;
        if (ref->n_layers != 1 || (r = store_blob_read(s, ref->signature, 1 << 16, &sig, &len)) < 0) {
                cli_error("verify: %s:%s: signature %.12s: %s", ref->name, ref->tag, ref->signature,
                          ref->n_layers != 1 ? "recorded for an image of more than one layer"
                          : r == -ENOENT     ? "missing from the store"
                                             : roost_strerror(r));
                return EXIT_VERIFY;
        }
        _cleanup_close_ int fd = store_blob_open(s, ref->layers[0].digest);
        struct trust_verdict v = { 0 };
        r = fd < 0 ? fd : trust_check_fd(*keys, sig, len, fd, &v, &e);
        if (r == 0 && (!ref->signer || strcmp(ref->signer, v.signer) != 0)) {
                roost_error_set(&e, 0, "made by %s, not by %s as recorded", v.signer,
                                ref->signer ? ref->signer : "(nobody)");
                r = -ROOST_ESIGNATURE;
        }
        if (r < 0) {
                cli_error("verify: %s:%s: signature: %s", ref->name, ref->tag, e.msg[0] ? e.msg : roost_strerror(r));
                return EXIT_VERIFY;
        }
        if (!a->quiet)
                printf("%s:%s (%s): signature ok (%s, %s)\n", ref->name, ref->tag, ref->arch, v.signer, v.hash);
        return 0;
}

int cmd_verify(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { ROOST_OPT_TRUST, 0, "trust", "KEY.asc",
                  "trust signatures by this OpenPGP key too, as pull\n--trust did (repeatable; $ROOST_TRUST)" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost verify",
                .usage = "[OPTIONS] [IMAGE[:TAG]...]",
                .about = "Hash the stored archives of the named images (all when none is named) again,\n"
                         "check the signature pull stored beside a signed one again over its bytes, and\n"
                         "check each unpacked tree against the manifest made when it was unpacked.\n"
                         "Each damaged archive, signature or tree path is reported on its own line.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args a = *args;
        int r = roost_parse(argc, argv, &a, &spec);
        _cleanup_free_ const char **trust = a.trust; /* the --trust list roost_parse grew */
        if (r)
                return r;
        store *s;
        if ((r = roost_open_store(&a, STORE_READ, &s)))
                return r;
        struct store_ref *refs = NULL;
        size_t n = 0;
        int ret = 0;
        trust_keys *keys = NULL;
        if (!a.n_operands) {
                _cleanup_free_ char *bad = NULL;
                if ((r = store_ref_list(s, &refs, &n, &bad)) < 0) {
                        cli_error("verify: listing references: %s", roost_strerror(r));
                        store_close(s);
                        return EXIT_STORE;
                }
                if (bad) {
                        cli_error("verify: the reference %s cannot be read", bad);
                        ret = EXIT_VERIFY;
                }
        } else {
                refs = calloc((size_t)a.n_operands, sizeof(*refs));
                for (int i = 0; refs && i < a.n_operands; i++) {
                        if ((r = roost_read_ref(s, &a, a.operands[i], &refs[n])) < 0) {
                                cli_error("verify: %s: %s", a.operands[i],
                                          r == -ROOST_ENOTFOUND ? "no such image in the store"
                                                                : roost_strerror(r));
                                ret = ret ?: roost_exit_code(r);
                                continue;
                        }
                        n++;
                }
        }
        for (size_t i = 0; i < n; i++) {
                const struct store_ref *ref = &refs[i];
                bool ok = true;
                for (size_t j = 0; j < ref->n_layers; j++) {
                        const char *l = ref->layers[j].digest;
                        r = store_blob_verify(s, l, ref->n_layers == 1 ? ref->sha512 : NULL);
                        if (r < 0) {
                                cli_error("verify: %s:%s: archive %.12s: %s", ref->name, ref->tag, l,
                                          r == -ENOENT ? "missing from the store" : roost_strerror(r));
                                ok = false;
                        }
                }
                if (!ok)
                        ret = EXIT_VERIFY;
                else if (!a.quiet)
                        printf("%s:%s (%s): archive ok\n", ref->name, ref->tag, ref->arch);
                if (ok && ref->signature && (r = verify_signature(s, &a, ref, &keys)))
                        ret = ret ?: r;
                for (size_t j = 0; j < ref->n_layers; j++)
                        if (verify_tree(s, ref, ref->layers[j].digest, a.quiet))
                                ret = EXIT_VERIFY;
        }
        trust_keys_free(keys);
        store_ref_list_free(refs, n);
        store_close(s);
        return ret;
}
