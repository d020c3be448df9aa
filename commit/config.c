/* A committed image's config: the parent's, with --change applied as a
 * Dockerfile's instructions would be (docker commit --change reads the
 * same subset), the new layer's diff_id added and a history entry. A pure
 * function of its inputs: tests/unit/test-commit.c. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "commit/commit.h"
#include "common/util.h"

#define CHANGES_KNOWN "CMD, ENTRYPOINT, ENV, LABEL, USER or WORKDIR"

static const char *skip_space(const char *p)
{
        while (*p && isspace((unsigned char)*p))
                p++;
        return p;
}

/* The next word of *P, quotes removed ("..." with backslash escapes,
 * '...' literal) and backslashes escaping the next character, as a
 * Dockerfile's ENV and LABEL read them. NULL at the end; *ERR on an
 * unclosed quote. */
static char *next_word(const char **p, bool *err)
{
        const char *s = skip_space(*p);
        if (!*s)
                return NULL;
        char *out = malloc(strlen(s) + 1), *o = out;
        if (!out) {
                *err = true;
                return NULL;
        }
        char quote = 0;
        for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
                if (quote == '\'' && *s == '\'')
                        quote = 0;
                else if (quote == '\'')
                        *o++ = *s;
                else if (*s == '\\' && s[1])
                        *o++ = *++s;
                else if (quote == '"' && *s == '"')
                        quote = 0;
                else if (!quote && (*s == '"' || *s == '\''))
                        quote = *s;
                else
                        *o++ = *s;
        }
        *o = 0;
        *p = s;
        if (quote) {
                *err = true;
                free(out);
                return NULL;
        }
        return out;
}

/* CMD's or ENTRYPOINT's argument: a JSON array of strings (exec form), or
 * else a command line for /bin/sh -c (shell form). */
static json_t *command_form(const char *arg)
{
        if (*arg == '[') {
                json_t *a = json_loads(arg, JSON_DECODE_ANY, NULL);
                bool ok = json_is_array(a);
                for (size_t i = 0; ok && i < json_array_size(a); i++)
                        ok = json_is_string(json_array_get(a, i));
                if (ok)
                        return a;
                json_decref(a);
                /* docker takes what is not valid JSON as the shell form. */
        }
        return json_pack("[s, s, s]", "/bin/sh", "-c", arg);
}

static json_t *env_set(json_t *env, const char *key, const char *value)
{
        size_t klen = strlen(key);
        char *kv;
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return NULL;
        json_t *v = json_string(kv);
        free(kv);
        if (!v)
                return NULL;
        for (size_t i = 0; i < json_array_size(env); i++) {
                const char *t = json_string_value(json_array_get(env, i));
                if (t && !strncmp(t, key, klen) && t[klen] == '=')
                        return json_array_set_new(env, i, v) < 0 ? NULL : env;
        }
        return json_array_append_new(env, v) < 0 ? NULL : env;
}

/* ENV K=V [K2=V2...], or the old ENV K V...; LABEL k=v [k2=v2...]. */
static int pairs(json_t *run, bool env, const char *arg, const char *change, roost_error *e)
{
        const char *p = arg;
        bool err = false;
        int n = 0;
        json_t *target = json_object_get(run, env ? "Env" : "Labels");
        if (!json_is_array(target) && !json_is_object(target)) {
                target = env ? json_array() : json_object();
                json_object_set_new(run, env ? "Env" : "Labels", target);
        }
        if ((env && !json_is_array(target)) || (!env && !json_is_object(target)))
                return roost_error_set(e, 0, "--change '%s': the parent's config has a malformed %s", change,
                                       env ? "Env" : "Labels"), -ROOST_EFORMAT;
        for (char *w; (w = next_word(&p, &err)); n++) {
                char *eq = strchr(w, '=');
                int r;
                if (!eq && env && n == 0 && *skip_space(p)) {
                        /* ENV KEY VALUE: the rest of the line is the value. */
                        r = env_set(target, w, skip_space(p)) ? 0 : -ENOMEM;
                        free(w);
                        return r;
                }
                if (!eq || eq == w) {
                        free(w);
                        err = true;
                        break;
                }
                *eq = 0;
                if (env)
                        r = env_set(target, w, eq + 1) ? 0 : -ENOMEM;
                else
                        r = json_object_set_new(target, w, json_string(eq + 1)) < 0 ? -ENOMEM : 0;
                free(w);
                if (r < 0)
                        return r;
        }
        if (err || n == 0)
                return roost_error_set(e, 0, "--change '%s': expected %s", change,
                                       env ? "ENV KEY=VALUE [KEY=VALUE...]" : "LABEL KEY=VALUE [KEY=VALUE...]"),
                       -ROOST_EUSAGE;
        return 0;
}

/* One --change CHANGE applied to the config's "config" object RUN.
 * *CMD_SET: a CMD was given, so a later ENTRYPOINT keeps it (docker's
 * rule: an ENTRYPOINT resets the Cmd it inherits). */
static int apply(json_t *run, const char *change, bool *cmd_set, roost_error *e)
{
        const char *p = skip_space(change), *kw = p;
        while (*p && !isspace((unsigned char)*p))
                p++;
        size_t kwlen = (size_t)(p - kw);
        const char *arg = skip_space(p);
        char trimmed[4096];
        size_t alen = strlen(arg);
        while (alen && isspace((unsigned char)arg[alen - 1]))
                alen--;
        if (alen >= sizeof(trimmed))
                return roost_error_set(e, 0, "--change '%.40s...': too long", change), -ROOST_EUSAGE;
        memcpy(trimmed, arg, alen);
        trimmed[alen] = 0;
        arg = trimmed;
#define IS(k) (kwlen == strlen(k) && !strncasecmp(kw, k, kwlen))
        if (!IS("CMD") && !IS("ENTRYPOINT") && !IS("ENV") && !IS("LABEL") && !IS("USER") && !IS("WORKDIR"))
                return roost_error_set(e, 0, "--change '%s': roost commit knows " CHANGES_KNOWN, change),
                       -ROOST_EUSAGE;
        if (!*arg)
                return roost_error_set(e, 0, "--change '%s': %.*s needs an argument", change, (int)kwlen, kw),
                       -ROOST_EUSAGE;
        if (IS("CMD") || IS("ENTRYPOINT")) {
                json_t *v = command_form(arg);
                if (!v)
                        return -ENOMEM;
                bool entry = IS("ENTRYPOINT");
                json_object_set_new(run, entry ? "Entrypoint" : "Cmd", v);
                if (entry && !*cmd_set)
                        json_object_del(run, "Cmd");
                if (!entry)
                        *cmd_set = true;
                return 0;
        }
        if (IS("ENV") || IS("LABEL"))
                return pairs(run, IS("ENV"), arg, change, e);
        if (IS("USER")) {
                if (strpbrk(arg, " \t"))
                        return roost_error_set(e, 0, "--change '%s': expected USER NAME[:GROUP]", change),
                               -ROOST_EUSAGE;
                json_object_set_new(run, "User", json_string(arg));
                return 0;
        }
        /* WORKDIR: a relative one is below the one before, as in a
         * Dockerfile. */
        const char *old = json_string_value(json_object_get(run, "WorkingDir"));
        char *dir;
        if (arg[0] == '/')
                dir = strdup(arg);
        else if (asprintf(&dir, "%s%s%s", old && *old ? old : "/",
                          old && *old && old[strlen(old) - 1] != '/' ? "/" : "", arg) < 0)
                dir = NULL;
        if (!dir)
                return -ENOMEM;
        json_object_set_new(run, "WorkingDir", json_string(dir));
        free(dir);
        return 0;
#undef IS
}

/* The parent's config, parsed and checked, with its "config" object made
 * where it had none: *RUN, and its diff_ids and history (which may be
 * NULL). NULL with E filled when it is no OCI image config. */
static json_t *parent_open(const char *parent, json_t **run, json_t **diff, json_t **hist, roost_error *e)
{
        json_t *c = json_loads(parent, JSON_REJECT_DUPLICATES, NULL);
        *run = json_object_get(c, "config");
        *diff = json_object_get(json_object_get(c, "rootfs"), "diff_ids");
        *hist = json_object_get(c, "history");
        if (!json_is_object(c) || !json_is_array(*diff) || (*run && !json_is_object(*run) && !json_is_null(*run)) ||
            (*hist && !json_is_array(*hist))) {
                json_decref(c);
                roost_error_set(e, 0, "the parent image's config is not an OCI image config");
                return NULL;
        }
        if (!json_is_object(*run)) {
                *run = json_object();
                json_object_set_new(c, "config", *run);
        }
        return c;
}

int commit_config_derive(const char *parent, char *const *changes, size_t n_changes, const char *comment,
                         const char *diff_id, int64_t created, char **ret, roost_error *e)
{
        char when[32];
        time_t t = (time_t)created;
        struct tm tm;
        if (!store_digest_valid(diff_id) || !gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
                return roost_error_set(e, -EINVAL, "the new image's config");
        json_t *run, *diff, *hist, *c = parent_open(parent, &run, &diff, &hist, e);
        int r = 0;
        if (!c)
                return -ROOST_EFORMAT;
        bool cmd_set = false;
        for (size_t i = 0; i < n_changes && r >= 0; i++)
                r = apply(run, changes[i], &cmd_set, e);
        if (r < 0) {
                if (r == -ENOMEM)
                        roost_error_set(e, r, "--change");
                goto out;
        }
        if (!json_is_array(hist)) {
                hist = json_array();
                json_object_set_new(c, "history", hist);
        }
        json_t *h = json_pack("{s:s, s:s}", "created", when, "created_by", "roost commit");
        if (h && comment && *comment)
                json_object_set_new(h, "comment", json_string(comment));
        if (!h || json_array_append_new(hist, h) < 0 ||
            json_array_append_new(diff, json_pack("s+", "sha256:", diff_id)) < 0 ||
            json_object_set_new(c, "created", json_string(when)) < 0) {
                r = roost_error_set(e, -ENOMEM, "the new image's config");
                goto out;
        }
        if (!(*ret = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS)))
                r = roost_error_set(e, -ENOMEM, "the new image's config");
out:
        json_decref(c);
        return r;
}

int commit_config_step(const char *parent, const char *change, bool *cmd_set, const char *diff_id,
                       const char *created_by, int64_t created, char **ret, roost_error *e)
{
        char when[32];
        time_t t = (time_t)created;
        struct tm tm;
        if ((diff_id && !store_digest_valid(diff_id)) || !gmtime_r(&t, &tm) ||
            !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
                return roost_error_set(e, -EINVAL, "the step's config");
        json_t *run, *diff, *hist, *c = parent_open(parent, &run, &diff, &hist, e);
        int r = 0;
        if (!c)
                return -ROOST_EFORMAT;
        if (change && (r = apply(run, change, cmd_set, e)) < 0) {
                if (r == -ENOMEM)
                        roost_error_set(e, r, "%s", change);
                goto out;
        }
        if (!json_is_array(hist)) {
                hist = json_array();
                json_object_set_new(c, "history", hist);
        }
        json_t *h = json_pack("{s:s, s:s}", "created", when, "created_by", created_by);
        if (h && !diff_id)
                json_object_set_new(h, "empty_layer", json_true());
        if (!h || json_array_append_new(hist, h) < 0 ||
            (diff_id && json_array_append_new(diff, json_pack("s+", "sha256:", diff_id)) < 0) ||
            json_object_set_new(c, "created", json_string(when)) < 0) {
                r = roost_error_set(e, -ENOMEM, "the step's config");
                goto out;
        }
        if (!(*ret = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS)))
                r = roost_error_set(e, -ENOMEM, "the step's config");
out:
        json_decref(c);
        return r;
}
