/* What a tag means and what the mirror's index says: pure parsing, no I/O,
 * so that every hostile input can be fed to it from a unit test. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>
#include "common/util.h"
#include "fetch/fetch-private.h"

/* digits(.digits)+ with an optional _suffix of [a-z0-9]: "3.22", "3.22.1",
 * "3.22.0_rc1". Returns the number of dot-separated numbers, 0 if not. */
static int version_shape(const char *s)
{
        int parts = 0;
        for (;;) {
                if (!isdigit((unsigned char)*s))
                        return 0;
                size_t digits = 0;
                while (isdigit((unsigned char)*s)) {
                        s++;
                        digits++;
                }
                if (digits > 9)
                        return 0;
                parts++;
                if (*s != '.')
                        break;
                s++;
        }
        if (*s == '_') {
                s++;
                if (!*s)
                        return 0;
                for (; *s; s++)
                        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s))
                                return 0;
                return parts == 3 ? parts : 0; /* only releases carry a suffix */
        }
        return *s ? 0 : parts;
}

bool fetch_branch_valid(const char *s)
{
        return s && s[0] == 'v' && strchr(s, '_') == NULL && version_shape(s + 1) == 2 && strlen(s) < 32;
}

int fetch_retries_parse(const char *text, int *ret)
{
        char *end;
        errno = 0;
        long n = strtol(text, &end, 10);
        if (errno || end == text || *end || !isdigit((unsigned char)text[0]) || n > 100)
                return -ROOST_EUSAGE;
        *ret = (int)n;
        return 0;
}

int fetch_timeout_parse(const char *text, double *ret)
{
        char *end;
        errno = 0;
        double d = strtod(text, &end);
        /* Written as a comparison that a NaN fails too. */
        if (errno || end == text || *end || !isdigit((unsigned char)text[0]) || !(d > 0 && d <= 86400))
                return -ROOST_EUSAGE;
        *ret = d;
        return 0;
}

int fetch_tag_parse(const char *tag, struct fetch_tag *ret)
{
        struct fetch_tag t = { 0 };
        if (!tag || strlen(tag) >= sizeof(t.version))
                return -ROOST_EUSAGE;
        if (strcmp(tag, "edge") == 0) {
                t.kind = FETCH_TAG_EDGE;
                strcpy(t.dir, "edge");
        } else if (strcmp(tag, "latest-stable") == 0 || strcmp(tag, "latest") == 0) {
                t.kind = FETCH_TAG_LATEST;
                strcpy(t.dir, "latest-stable");
        } else {
                const char *v = tag[0] == 'v' ? tag + 1 : tag;
                int parts = version_shape(v);
                if (strlen(v) > 24)
                        return -ROOST_EUSAGE;
                if (parts == 2 && !strchr(v, '_')) {
                        t.kind = FETCH_TAG_BRANCH;
                        snprintf(t.dir, sizeof(t.dir), "v%.24s", v);
                } else if (parts == 3) {
                        t.kind = FETCH_TAG_EXACT;
                        snprintf(t.version, sizeof(t.version), "%s", v);
                        /* The branch is the first two numbers. */
                        size_t n = strcspn(v, ".");
                        n += 1 + strcspn(v + n + 1, ".");
                        snprintf(t.dir, sizeof(t.dir), "v%.*s", (int)n, v);
                } else
                        return -ROOST_EUSAGE;
        }
        *ret = t;
        return 0;
}

bool fetch_file_name_valid(const char *s)
{
        if (!s || !*s || strlen(s) > 200 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || s[0] == '.')
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("._+-", *s))
                        return false;
        return true;
}

void fetch_release_done(struct fetch_release *r)
{
        free(r->version);
        free(r->file);
        free(r->sha256);
        free(r->sha512);
        *r = (struct fetch_release){ 0 };
}

static void yaml_document_deletep(yaml_document_t **d)
{
        if (*d)
                yaml_document_delete(*d);
}

static const char *scalar(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                yaml_node_t *v = yaml_document_get_node(doc, p->value);
                if (!k || !v || k->type != YAML_SCALAR_NODE)
                        continue;
                if (strcmp((const char *)k->data.scalar.value, key) != 0)
                        continue;
                if (v->type != YAML_SCALAR_NODE ||
                    strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
                        return NULL;
                return (const char *)v->data.scalar.value;
        }
        return NULL;
}

/* Whether MAP has KEY at all, whatever its value. */
static bool has_key(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
                        return true;
        }
        return false;
}

static int lower_hex(const char *in, size_t len, char **ret)
{
        if (!in || strlen(in) != len)
                return -ROOST_EFORMAT;
        char *s = strdup(in);
        if (!s)
                return -ENOMEM;
        for (char *p = s; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        if (!is_hex(s, len)) {
                free(s);
                return -ROOST_EFORMAT;
        }
        *ret = s;
        return 0;
}

/* Turn one index entry into a checked release: every field we will build a
 * URL from or compare against is validated here. */
static int entry_to_release(yaml_document_t *doc, yaml_node_t *map, struct fetch_release *ret, roost_error *e)
{
        struct fetch_release r = { 0 };
        const char *version = scalar(doc, map, "version"), *file = scalar(doc, map, "file");
        const char *size = scalar(doc, map, "size"), *sha256 = scalar(doc, map, "sha256");
        const char *sha512 = scalar(doc, map, "sha512");
        int rr;
        if (!version || strlen(version) > 63 || !isalnum((unsigned char)version[0]) ||
            strspn(version, "0123456789abcdefghijklmnopqrstuvwxyz._") != strlen(version)) {
                rr = fetch_fail(e, -ROOST_EFORMAT, "minirootfs entry has no valid version");
                goto fail;
        }
        if (!fetch_file_name_valid(file)) {
                rr = fetch_fail(e, -ROOST_EFORMAT, "minirootfs entry %s has no valid file name", version);
                goto fail;
        }
        unsigned long long sz = 0;
        if (size && isdigit((unsigned char)size[0])) {
                char *end;
                errno = 0;
                sz = strtoull(size, &end, 10);
                if (errno || *end)
                        sz = 0;
        }
        if (sz == 0 || sz > FETCH_MAX_UNKNOWN_SIZE * 16) {
                rr = fetch_fail(e, -ROOST_EFORMAT, "minirootfs entry %s has no valid size", version);
                goto fail;
        }
        /* No sha256 at all: the source reads it from the release's .sha256
         * file. One that is there must be valid. */
        if ((sha256 || has_key(doc, map, "sha256")) && lower_hex(sha256, STORE_SHA256_HEX, &r.sha256) < 0) {
                rr = fetch_fail(e, -ROOST_EFORMAT, "minirootfs entry %s has no valid sha256", version);
                goto fail;
        }
        if (sha512 && lower_hex(sha512, STORE_SHA512_HEX, &r.sha512) < 0) {
                rr = fetch_fail(e, -ROOST_EFORMAT, "minirootfs entry %s has an invalid sha512", version);
                goto fail;
        }
        r.size = sz;
        /* The image's "created": the same release is the same image
         * whoever pulls it, and whenever. A missing or odd date is no
         * reason to refuse the release. */
        const char *date = scalar(doc, map, "date"), *when = scalar(doc, map, "time");
        char stamp[64];
        struct tm tm = { 0 };
        snprintf(stamp, sizeof(stamp), "%s %s", date ? date : "", when ? when : "00:00:00");
        const char *end = strptime(stamp, "%Y-%m-%d %H:%M:%S", &tm);
        if (end && !*end)
                r.date = (int64_t)timegm(&tm);
        if (!(r.version = strdup(version)) || !(r.file = strdup(file))) {
                rr = -ENOMEM;
                goto fail;
        }
        *ret = r;
        return 0;
fail:
        fetch_release_done(&r);
        return rr;
}

/* A release index is a list of flat mappings: deeper than this is not one. */
#define INDEX_MAX_DEPTH 4

static bool event_anchored(const yaml_event_t *ev)
{
        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                return ev->data.scalar.anchor;
        case YAML_SEQUENCE_START_EVENT:
                return ev->data.sequence_start.anchor;
        case YAML_MAPPING_START_EVENT:
                return ev->data.mapping_start.anchor;
        default:
                return ev->type == YAML_ALIAS_EVENT;
        }
}

/* Walked with libyaml's event parser before the document is loaded, and
 * left at the first event that is not an index's: an alias (a hostile
 * index naming one large mapping a hundred thousand times makes the scan
 * below take minutes) or deep nesting (libyaml takes time quadratic in
 * the depth). */
static int index_shape(const char *text, size_t n, roost_error *e)
{
        yaml_parser_t parser;
        yaml_event_t ev;
        int depth = 0, r = 0;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, n);
        for (bool end = false; !end && r == 0;) {
                if (!yaml_parser_parse(&parser, &ev)) {
                        r = fetch_fail(e, -ROOST_EFORMAT, "YAML error at line %zu: %s",
                                       parser.problem_mark.line + 1, parser.problem ?: "unknown");
                        break;
                }
                if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
                        depth++;
                else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
                        depth--;
                if (event_anchored(&ev))
                        r = fetch_fail(e, -ROOST_EFORMAT,
                                       "anchors and aliases have no place in a release index");
                else if (depth > INDEX_MAX_DEPTH)
                        r = fetch_fail(e, -ROOST_EFORMAT, "nested deeper than a release index is");
                end = ev.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);
        return r;
}

int fetch_index_pick(const char *text, size_t n, const char *arch, const char *want,
                     struct fetch_release *ret, roost_error *e)
{
        yaml_parser_t parser;
        yaml_document_t docbuf;
        _cleanup_(yaml_document_deletep) yaml_document_t *doc = NULL;
        int r = index_shape(text, n, e);
        if (r < 0)
                return r;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, n);
        int ok = yaml_parser_load(&parser, &docbuf);
        if (!ok) {
                fetch_fail(e, -ROOST_EFORMAT, "YAML error at line %zu: %s", parser.problem_mark.line + 1,
                           parser.problem ? parser.problem : "unknown");
                yaml_parser_delete(&parser);
                return -ROOST_EFORMAT;
        }
        yaml_parser_delete(&parser);
        doc = &docbuf;

        yaml_node_t *root = yaml_document_get_root_node(doc);
        if (!root || root->type != YAML_SEQUENCE_NODE)
                return fetch_fail(e, -ROOST_EFORMAT, "not a list of releases");

        yaml_node_t *best = NULL;
        const char *best_version = NULL;
        for (yaml_node_item_t *it = root->data.sequence.items.start; it < root->data.sequence.items.top;
             it++) {
                yaml_node_t *entry = yaml_document_get_node(doc, *it);
                if (!entry || entry->type != YAML_MAPPING_NODE)
                        return fetch_fail(e, -ROOST_EFORMAT, "release entry is not a mapping");
                const char *flavor = scalar(doc, entry, "flavor");
                const char *a = scalar(doc, entry, "arch");
                const char *version = scalar(doc, entry, "version");
                if (!flavor || strcmp(flavor, "alpine-minirootfs") != 0)
                        continue;
                if (!a || strcmp(a, arch) != 0)
                        continue;
                if (!version)
                        return fetch_fail(e, -ROOST_EFORMAT, "minirootfs entry has no version");
                if (want) {
                        if (strcmp(version, want) == 0) {
                                best = entry;
                                break;
                        }
                } else if (!best || store_version_compare(version, best_version) > 0) {
                        best = entry;
                        best_version = version;
                }
        }
        if (!best)
                return fetch_fail(e, -ROOST_ENOTFOUND, "no alpine-minirootfs %s%sfor %s in the index",
                                  want ? want : "", want ? " " : "", arch);
        return entry_to_release(doc, best, ret, e);
}

int fetch_sumfile_parse(const char *text, const char *file, size_t hexlen, char *out)
{
        const char *line = text;
        while (line && *line) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                if (len > 0 && line[len - 1] == '\r')
                        len--;
                size_t h = 0;
                while (h < len && isxdigit((unsigned char)line[h]))
                        h++;
                if (h == hexlen && (h == len || line[h] == ' ' || line[h] == '\t')) {
                        const char *name = line + h;
                        size_t rest = len - h;
                        /* "HEX  NAME", "HEX *NAME" (binary mode) or "HEX" alone. */
                        while (rest > 0 && (*name == ' ' || *name == '\t')) {
                                name++;
                                rest--;
                        }
                        if (rest > 0 && *name == '*') {
                                name++;
                                rest--;
                        }
                        /* A name with a path: compare its last component. */
                        const char *slash = memrchr(name, '/', rest);
                        if (slash) {
                                rest -= (size_t)(slash + 1 - name);
                                name = slash + 1;
                        }
                        if (rest == 0 || (rest == strlen(file) && memcmp(name, file, rest) == 0)) {
                                for (size_t i = 0; i < hexlen; i++)
                                        out[i] = (char)tolower((unsigned char)line[i]);
                                out[hexlen] = 0;
                                return 0;
                        }
                }
                line = eol ? eol + 1 : NULL;
        }
        return -ROOST_EFORMAT;
}
