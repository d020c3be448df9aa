/* What a user means by "alpine" or "alpine:3.20.3" among the references
 * the store holds. A bare name is the newest image of that name already
 * stored, never the mirror's latest: a command that reads an image must
 * work offline on what was pulled (docs/store.md). Nothing here hashes or
 * touches the network, so launch may call it on every start. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

int store_version_compare(const char *a, const char *b)
{
        while (*a || *b) {
                if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
                        while (*a == '0' && isdigit((unsigned char)a[1]))
                                a++;
                        while (*b == '0' && isdigit((unsigned char)b[1]))
                                b++;
                        size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
                        if (la != lb)
                                return la < lb ? -1 : 1;
                        int c = strncmp(a, b, la);
                        if (c)
                                return c < 0 ? -1 : 1;
                        a += la;
                        b += lb;
                        continue;
                }
                /* A pre-release suffix sorts before the end of the other. */
                if (!*a)
                        return *b == '_' ? 1 : -1;
                if (!*b)
                        return *a == '_' ? -1 : 1;
                if (*a != *b)
                        return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
                a++;
                b++;
        }
        return 0;
}

bool store_version_is_release(const char *v)
{
        if (!v)
                return false;
        for (int part = 0; part < 3; part++) {
                if (part && *v++ != '.')
                        return false;
                size_t digits = strspn(v, "0123456789");
                if (digits == 0 || digits > 9)
                        return false;
                v += digits;
        }
        if (*v != '_')
                return *v == 0;
        if (!*++v)
                return false;
        for (; *v; v++)
                if (!islower((unsigned char)*v) && !isdigit((unsigned char)*v))
                        return false;
        return true;
}

static int newest_first(const void *a, const void *b)
{
        const struct store_ref *x = a, *y = b;
        bool rx = store_version_is_release(x->version), ry = store_version_is_release(y->version);
        if (rx != ry)
                return rx ? -1 : 1;
        int c = rx ? -store_version_compare(x->version, y->version) : 0;
        if (!c && x->created != y->created)
                c = x->created > y->created ? -1 : 1;
        /* One release under several tags ("3.20", "latest-stable"), pulled
         * in the same second: any order will do, but always the same. */
        if (!c)
                c = strcmp(x->tag, y->tag);
        if (!c)
                c = strcmp(x->arch, y->arch);
        return c;
}

void store_ref_sort_newest(struct store_ref *refs, size_t n)
{
        if (n > 1)
                qsort(refs, n, sizeof(*refs), newest_first);
}

int store_ref_match(store *s, const char *name, const char *tag, const char *arch, struct store_ref **ret,
                    size_t *ret_n)
{
        if (!store_ref_name_valid(name) || (tag && !store_ref_tag_valid(tag)) || !store_arch_valid(arch))
                return -ROOST_EUNSAFE;
        struct store_ref *refs = NULL;
        size_t n = 0, cap = 0;
        int r;
        if (tag) {
                struct store_ref one;
                r = store_ref_read(s, name, tag, arch, &one);
                if (r == 0) {
                        if (!(refs = malloc(sizeof(*refs)))) {
                                store_ref_done(&one);
                                return -ENOMEM;
                        }
                        refs[0] = one;
                        *ret = refs;
                        *ret_n = 1;
                        return 0;
                }
                /* pull takes "v3.20.3" for "3.20.3"; so does this. */
                if (tag[0] == 'v' && isdigit((unsigned char)tag[1]))
                        tag++;
                if (r != -ROOST_ENOTFOUND || !store_version_is_release(tag)) {
                        *ret = NULL;
                        *ret_n = 0;
                        return r == -ROOST_ENOTFOUND ? 0 : r;
                }
        }
        r = store_ref_collect(s, name, arch, &refs, &n, &cap, NULL);
        if (r < 0) {
                store_ref_list_free(refs, n);
                return r;
        }
        if (tag) {
                size_t kept = 0;
                for (size_t i = 0; i < n; i++)
                        if (refs[i].version && strcmp(refs[i].version, tag) == 0)
                                refs[kept++] = refs[i];
                        else
                                store_ref_done(&refs[i]);
                n = kept;
        }
        store_ref_sort_newest(refs, n);
        if (!n) {
                free(refs);
                refs = NULL;
        }
        *ret = refs;
        *ret_n = n;
        return 0;
}

int store_ref_resolve(store *s, const char *name, const char *tag, const char *arch, struct store_ref *ret)
{
        struct store_ref *refs;
        size_t n;
        int r = store_ref_match(s, name, tag, arch, &refs, &n);
        if (r < 0)
                return r;
        if (!n)
                return -ROOST_ENOTFOUND;
        *ret = refs[0];
        for (size_t i = 1; i < n; i++)
                store_ref_done(&refs[i]);
        free(refs);
        return 0;
}
