/* The Dockerfile subset roost build reads, and .dockerignore: pure
 * functions of their text (tests/unit/test-dockerfile.c). What the subset
 * leaves out is refused with the line and the instruction's name, never
 * skipped: a build that quietly did less than its file says would make an
 * image no one asked for. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "commit/commit.h"
#include "common/util.h"

static const struct {
        const char *name;
        enum dockerfile_kind kind;
} known[] = {
        { "FROM", DF_FROM },   { "RUN", DF_RUN }, { "COPY", DF_COPY },
        { "ENV", DF_ENV },     { "ARG", DF_ARG }, { "WORKDIR", DF_WORKDIR },
        { "USER", DF_USER },   { "CMD", DF_CMD }, { "ENTRYPOINT", DF_ENTRYPOINT },
        { "LABEL", DF_LABEL },
};

/* docker's other instructions: named as such when refused. */
static const char *const unsupported[] = {
        "ADD", "EXPOSE", "VOLUME", "HEALTHCHECK", "SHELL", "STOPSIGNAL", "ONBUILD", "MAINTAINER",
};

const char *dockerfile_kind_name(enum dockerfile_kind k)
{
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (known[i].kind == k)
                        return known[i].name;
        return "?";
}

static void step_done(struct dockerfile_step *st)
{
        free(st->text);
        free(st->args);
        free(st->chown);
        strv_free(st->argv);
}

void dockerfile_done(struct dockerfile *df)
{
        for (size_t i = 0; i < df->n; i++)
                step_done(&df->steps[i]);
        free(df->steps);
        memset(df, 0, sizeof(*df));
}

static bool blank(const char *p, const char *end)
{
        for (; p < end; p++)
                if (!isspace((unsigned char)*p))
                        return false;
        return true;
}

/* A JSON array of strings as a NULL-terminated vector; NULL when ARGS is
 * not one (the shell form, then). */
static char **json_form(const char *args)
{
        if (*args != '[')
                return NULL;
        json_t *a = json_loads(args, JSON_DECODE_ANY, NULL);
        char **v = NULL;
        if (json_is_array(a) && (v = calloc(json_array_size(a) + 1, sizeof(*v)))) {
                for (size_t i = 0; i < json_array_size(a); i++) {
                        const char *s = json_string_value(json_array_get(a, i));
                        if (!s || !(v[i] = strdup(s))) {
                                strv_free(v);
                                v = NULL;
                                break;
                        }
                }
        }
        json_decref(a);
        return v;
}

/* Whitespace-separated words of S (COPY's shell form). */
static char **split_words(const char *s)
{
        size_t n = 0, cap = 4;
        char **v = calloc(cap, sizeof(*v));
        while (v) {
                while (isspace((unsigned char)*s))
                        s++;
                if (!*s)
                        break;
                const char *w = s;
                while (*s && !isspace((unsigned char)*s))
                        s++;
                if (n + 2 > cap) {
                        char **more = realloc(v, (cap *= 2) * sizeof(*v));
                        if (!more)
                                break;
                        v = more;
                }
                if (!(v[n++] = strndup(w, (size_t)(s - w))))
                        break;
                v[n] = NULL;
        }
        if (v && (n == 0 || !v[n - 1])) {
                strv_free(v);
                return NULL;
        }
        return v;
}

/* One logical line (continuations joined) starting at LINE: KW ARGS. */
static int parse_instruction(struct dockerfile *df, char *text, unsigned line, bool *seen_from,
                             roost_error *e)
{
        char *p = text;
        while (isspace((unsigned char)*p))
                p++;
        char *kw = p;
        while (*p && !isspace((unsigned char)*p))
                p++;
        size_t kwlen = (size_t)(p - kw);
        while (isspace((unsigned char)*p))
                p++;
        char *args = p, *end = args + strlen(args);
        while (end > args && isspace((unsigned char)end[-1]))
                *--end = 0;

        int kind = -1;
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (strlen(known[i].name) == kwlen && !strncasecmp(kw, known[i].name, kwlen))
                        kind = (int)known[i].kind;
        if (kind < 0) {
                for (size_t i = 0; i < ELEMENTSOF(unsupported); i++)
                        if (strlen(unsupported[i]) == kwlen && !strncasecmp(kw, unsupported[i], kwlen))
                                return roost_error_set(e, 0, "line %u: %s is not supported by roost build",
                                                       line, unsupported[i]),
                                       -ROOST_EUSAGE;
                return roost_error_set(e, 0, "line %u: unknown instruction %.*s", line,
                                       (int)(kwlen > 64 ? 64 : kwlen), kw),
                       -ROOST_EUSAGE;
        }
        const char *name = dockerfile_kind_name((enum dockerfile_kind)kind);
        if (kind == DF_FROM && *seen_from)
                return roost_error_set(e, 0, "line %u: a second FROM (a multi-stage build) is not supported",
                                       line),
                       -ROOST_EUSAGE;
        if (kind != DF_FROM && kind != DF_ARG && !*seen_from)
                return roost_error_set(e, 0, "line %u: %s before FROM (only ARG may come first)", line, name),
                       -ROOST_EUSAGE;
        if (kind == DF_FROM)
                *seen_from = true;

        struct dockerfile_step st = { .kind = (enum dockerfile_kind)kind, .line = line };
        /* Flags: COPY's --chown, and nothing else. */
        while (args[0] == '-' && args[1] == '-') {
                char *f = args;
                while (*args && !isspace((unsigned char)*args))
                        args++;
                size_t flen = (size_t)(args - f);
                while (isspace((unsigned char)*args))
                        args++;
                if (kind == DF_COPY && flen > 8 && !strncmp(f, "--chown=", 8) && !st.chown) {
                        if (!(st.chown = strndup(f + 8, flen - 8)))
                                return -ENOMEM;
                        continue;
                }
                free(st.chown);
                return roost_error_set(e, 0, "line %u: %s %.*s is not supported by roost build", line, name,
                                       (int)(flen > 64 ? 64 : flen), f),
                       -ROOST_EUSAGE;
        }
        if (!*args) {
                free(st.chown);
                return roost_error_set(e, 0, "line %u: %s needs an argument", line, name), -ROOST_EUSAGE;
        }
        int r = -ENOMEM;
        if (!(st.args = strdup(args)) || asprintf(&st.text, "%s %s%s%s", name, st.chown ? "--chown=" : "",
                                                  st.chown ? st.chown : "", st.chown ? " " : "") < 0) {
                st.text = NULL;
                goto fail;
        }
        char *full;
        if (asprintf(&full, "%s%s", st.text, args) < 0)
                goto fail;
        free(st.text);
        st.text = full;
        if (kind == DF_RUN || kind == DF_CMD || kind == DF_ENTRYPOINT || kind == DF_COPY) {
                st.argv = json_form(args);
                if (kind == DF_COPY && !st.argv)
                        st.argv = split_words(args);
                if (st.argv && kind == DF_RUN && !st.argv[0]) {
                        roost_error_set(e, 0, "line %u: RUN [] runs nothing", line);
                        r = -ROOST_EUSAGE;
                        goto fail;
                }
                if (kind == DF_COPY && (!st.argv || !st.argv[0] || !st.argv[1])) {
                        roost_error_set(e, 0, "line %u: COPY needs a source and a destination", line);
                        r = -ROOST_EUSAGE;
                        goto fail;
                }
        }
        if (kind == DF_FROM && strpbrk(args, " \t")) {
                roost_error_set(e, 0, "line %u: FROM IMAGE AS NAME (a build stage) is not supported", line);
                r = -ROOST_EUSAGE;
                goto fail;
        }
        struct dockerfile_step *more = realloc(df->steps, (df->n + 1) * sizeof(*more));
        if (!more)
                goto fail;
        df->steps = more;
        df->steps[df->n++] = st;
        return 0;
fail:
        step_done(&st);
        return r == -ENOMEM ? roost_error_set(e, r, "reading the Dockerfile") : r;
}

int dockerfile_parse(const char *text, struct dockerfile *ret, roost_error *e)
{
        struct dockerfile df = { 0 };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        unsigned line = 0, start = 0;
        bool seen_from = false;
        int r = 0;
        if (!(buf = malloc(strlen(text) + 1)))
                return roost_error_set(e, -ENOMEM, "reading the Dockerfile");
        for (const char *p = text; *p && r == 0;) {
                const char *nl = strchrnul(p, '\n'), *next = *nl ? nl + 1 : nl, *end = nl;
                line++;
                if (end > p && end[-1] == '\r')
                        end--;
                const char *q = p;
                while (q < end && isspace((unsigned char)*q))
                        q++;
                /* Comments (and parser directives, which are comments to
                 * the subset) and empty lines, also amid a continuation. */
                if (q == end || *q == '#') {
                        p = next;
                        continue;
                }
                if (len == 0)
                        start = line;
                const char *e2 = end;
                while (e2 > q && isspace((unsigned char)e2[-1]))
                        e2--;
                bool cont = e2 > q && e2[-1] == '\\';
                size_t n = (size_t)((cont ? e2 - 1 : end) - p);
                memcpy(buf + len, p, n);
                len += n;
                buf[len] = 0;
                if (!cont || !*next) {
                        if (!blank(buf, buf + len))
                                r = parse_instruction(&df, buf, start, &seen_from, e);
                        len = 0;
                }
                p = next;
        }
        if (r == 0 && !seen_from) {
                roost_error_set(e, 0, "no FROM: a Dockerfile starts with FROM IMAGE (or FROM scratch)");
                r = -ROOST_EUSAGE;
        }
        if (r < 0) {
                dockerfile_done(&df);
                return r;
        }
        *ret = df;
        return 0;
}

/* ---- $VARIABLES ---- */

static const char *var_lookup(char *const *vars, size_t n, const char *name, size_t nlen)
{
        for (size_t i = n; i-- > 0;)
                if (!strncmp(vars[i], name, nlen) && vars[i][nlen] == '=')
                        return vars[i] + nlen + 1;
        return NULL;
}

struct sbuf {
        char *p;
        size_t n, cap;
        bool oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->n + n + 1 > b->cap) {
                size_t cap = (b->n + n + 1) * 2;
                char *p = realloc(b->p, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->p = p, b->cap = cap;
        }
        memcpy(b->p + b->n, s, n);
        b->n += n;
        b->p[b->n] = 0;
}

int dockerfile_expand(const char *in, char *const *vars, size_t n_vars, char **ret)
{
        struct sbuf b = { 0 };
        bool squote = false;
        sb_add(&b, "", 0);
        for (const char *p = in; *p;) {
                if (*p == '\'') {
                        squote = !squote;
                        sb_add(&b, p++, 1);
                        continue;
                }
                if (squote || (*p != '$' && *p != '\\')) {
                        sb_add(&b, p++, 1);
                        continue;
                }
                if (*p == '\\') {
                        /* \$ is a literal dollar; other escapes stay for
                         * the word reader after us. */
                        if (p[1] == '$')
                                sb_add(&b, "$", 1), p += 2;
                        else {
                                sb_add(&b, p, p[1] ? 2 : 1);
                                p += p[1] ? 2 : 1;
                        }
                        continue;
                }
                const char *name = p + 1;
                if (*name == '{') {
                        const char *close = strchr(name, '}');
                        if (!close) {
                                free(b.p);
                                return -EINVAL;
                        }
                        const char *nm = name + 1, *ne = nm;
                        while (ne < close && (isalnum((unsigned char)*ne) || *ne == '_'))
                                ne++;
                        if (ne == nm) {
                                free(b.p);
                                return -EINVAL;
                        }
                        const char *v = var_lookup(vars, n_vars, nm, (size_t)(ne - nm));
                        if (ne == close) {
                                if (v)
                                        sb_add(&b, v, strlen(v));
                        } else if (ne[0] == ':' && (ne[1] == '-' || ne[1] == '+')) {
                                /* ${V:-word}: word when V is unset or empty;
                                 * ${V:+word}: word when it is set and not. */
                                bool set = v && *v;
                                if (ne[1] == '-' && set)
                                        sb_add(&b, v, strlen(v));
                                else if ((ne[1] == '-' && !set) || (ne[1] == '+' && set)) {
                                        _cleanup_free_ char *word = strndup(ne + 2, (size_t)(close - ne - 2)),
                                                            *x = NULL;
                                        if (!word || dockerfile_expand(word, vars, n_vars, &x) < 0) {
                                                free(b.p);
                                                return -EINVAL;
                                        }
                                        sb_add(&b, x, strlen(x));
                                }
                        } else {
                                free(b.p);
                                return -EINVAL;
                        }
                        p = close + 1;
                        continue;
                }
                const char *ne = name;
                while (isalnum((unsigned char)*ne) || *ne == '_')
                        ne++;
                if (ne == name) {
                        sb_add(&b, p++, 1); /* a lone '$' */
                        continue;
                }
                const char *v = var_lookup(vars, n_vars, name, (size_t)(ne - name));
                if (v)
                        sb_add(&b, v, strlen(v));
                p = ne;
        }
        if (b.oom) {
                free(b.p);
                return -ENOMEM;
        }
        *ret = b.p;
        return 0;
}

/* ---- .dockerignore ---- */

void dockerignore_done(struct dockerignore *di)
{
        for (size_t i = 0; i < di->n; i++)
                free(di->patterns[i]);
        free(di->patterns);
        free(di->exclude);
        memset(di, 0, sizeof(*di));
}

int dockerignore_parse(const char *text, struct dockerignore *ret)
{
        struct dockerignore di = { 0 };
        for (const char *p = text; p && *p;) {
                const char *nl = strchrnul(p, '\n'), *s = p, *end = nl;
                p = *nl ? nl + 1 : NULL;
                while (s < end && isspace((unsigned char)*s))
                        s++;
                while (end > s && isspace((unsigned char)end[-1]))
                        end--;
                if (s == end || *s == '#')
                        continue;
                bool keep = *s == '!';
                if (keep)
                        s++;
                /* Rooted at the context: "/a", "./a" and "a" are one. */
                while (s < end && (*s == '/' || (*s == '.' && s + 1 < end && s[1] == '/')))
                        s += *s == '/' ? 1 : 2;
                while (end > s && end[-1] == '/')
                        end--;
                if (s == end)
                        continue;
                char **pm = realloc(di.patterns, (di.n + 1) * sizeof(*pm));
                if (pm)
                        di.patterns = pm;
                bool *ex = pm ? realloc(di.exclude, (di.n + 1) * sizeof(*ex)) : NULL;
                if (ex)
                        di.exclude = ex;
                if (!pm || !ex || !(di.patterns[di.n] = strndup(s, (size_t)(end - s)))) {
                        dockerignore_done(&di);
                        return -ENOMEM;
                }
                di.exclude[di.n++] = !keep;
                di.any_keep = di.any_keep || keep;
        }
        *ret = di;
        return 0;
}

/* One component of a pattern (up to '/') against one of a path, as
 * fnmatch(3); a component past NAME_MAX matches nothing. */
static bool component_match(const char *pat, const char *path)
{
        char pc[256], qc[256];
        size_t plen = strcspn(pat, "/"), qlen = strcspn(path, "/");
        if (plen >= sizeof(pc) || qlen >= sizeof(qc))
                return false;
        memcpy(pc, pat, plen), pc[plen] = 0;
        memcpy(qc, path, qlen), qc[qlen] = 0;
        return fnmatch(pc, qc, 0) == 0;
}

static bool globstar(const char *p)
{
        return p[0] == '*' && p[1] == '*' && (p[2] == '/' || !p[2]);
}

static const char *next_component(const char *s)
{
        s += strcspn(s, "/");
        return *s ? s + 1 : s;
}

/* PAT against PATH, both '/'-separated and relative; "**" is any number
 * of components (one at least when it ends the pattern), other components
 * as fnmatch(3). As wildcard matching over components: on a mismatch only
 * the last "**" takes one more component, never an earlier one, which
 * could only repeat what the last one tries. Trying every split of every
 * "**" instead is exponential: a .dockerignore line of ten "**" took
 * seconds for each file of a deep context (found fuzzing). */
static bool match_parts(const char *pat, const char *path)
{
        const char *p = pat, *q = path, *star = NULL, *mark = NULL;
        while (*q) {
                if (globstar(p)) {
                        while (globstar(p))
                                p = next_component(p);
                        if (!*p)
                                return true;
                        star = p, mark = q;
                        continue;
                }
                if (*p && component_match(p, q)) {
                        p = next_component(p);
                        q = next_component(q);
                        continue;
                }
                if (!star || !*(mark = next_component(mark)))
                        return false;
                p = star, q = mark;
        }
        return !*p;
}

bool dockerignore_excluded(const struct dockerignore *di, const char *path)
{
        bool out = false;
        for (size_t i = 0; i < di->n; i++) {
                /* A pattern that names a directory names what is in it. */
                bool m = match_parts(di->patterns[i], path);
                for (const char *q = path; !m && (q = strchr(q, '/')); q++) {
                        char prefix[4096];
                        size_t len = (size_t)(q - path);
                        if (len >= sizeof(prefix))
                                break;
                        memcpy(prefix, path, len), prefix[len] = 0;
                        m = match_parts(di->patterns[i], prefix);
                }
                if (m)
                        out = di->exclude[i];
        }
        return out;
}
