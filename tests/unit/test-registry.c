/* The registry source's parts that need no network (fetch/registry.h):
 * docker's reference rules, WWW-Authenticate, auth.json as podman and
 * docker write it, and a platform's manifest chosen from an index. */
#include "config.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/error.h"
#include "fetch/registry-session.h"
#include "fetch/registry.h"

#ifndef __SANITIZE_ADDRESS__
#include <malloc.h>
/* Every block freed is looked at for FREED_WATCH (a credential in clear):
 * what the code frees must have been wiped first. ASan has free of its
 * own, so the check runs without it. */
extern void __libc_free(void *p);
static const char *freed_watch;
static bool freed_seen;

void free(void *p)
{
        if (p && freed_watch && memmem(p, malloc_usable_size(p), freed_watch, strlen(freed_watch)))
                freed_seen = true;
        __libc_free(p);
}

/* A lookup of auth.json's credentials leaves no copy of the password in
 * memory it frees (the copy it returns is the caller's to wipe). */
static void test_creds_wiped(void **state)
{
        char dir[] = "/tmp/roost-wipe-XXXXXX", file[96];
        assert_non_null(mkdtemp(dir));
        snprintf(file, sizeof(file), "%s/auth.json", dir);
        assert_int_equal(registry_creds_store(file, "127.0.0.1:5000", "wiper", "pw-9f8e7d6c"), 0);
        char *u = NULL, *p = NULL;
        freed_watch = "pw-9f8e7d6c";
        freed_seen = false;
        assert_int_equal(registry_creds_lookup(file, "127.0.0.1:5000", &u, &p), 0);
        assert_false(freed_seen);
        free(strdup("the pw-9f8e7d6c")); /* and the check sees a block that is not */
        freed_watch = NULL;
        assert_true(freed_seen);
        assert_string_equal(p, "pw-9f8e7d6c");
        free(u);
        free(p);
        unlink(file);
        rmdir(dir);
        (void)state;
}
#endif

static void ref_is(const char *text, const char *registry, const char *repo, const char *tag, const char *digest,
                   const char *name)
{
        struct registry_ref r;
        assert_int_equal(registry_ref_parse(text, &r), 0);
        assert_string_equal(r.registry, registry);
        assert_string_equal(r.repository, repo);
        assert_string_equal(r.tag, tag);
        if (digest)
                assert_string_equal(r.digest, digest);
        else
                assert_null(r.digest);
        assert_string_equal(r.name, name);
        registry_ref_done(&r);
}

static void test_references(void **state)
{
        const char *d = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        char with_digest[200];
        assert_true(registry_ref_is_remote("docker.io/library/alpine:3.22"));
        assert_true(registry_ref_is_remote("127.0.0.1:5000/team/app"));
        assert_true(registry_ref_is_remote("localhost/app"));
        assert_false(registry_ref_is_remote("alpine"));
        assert_false(registry_ref_is_remote("alpine:3.22"));
        assert_false(registry_ref_is_remote("team/app"));
        ref_is("docker.io/library/alpine:3.22", "registry-1.docker.io", "library/alpine", "3.22", NULL,
               "docker.io/library/alpine");
        ref_is("docker.io/alpine", "registry-1.docker.io", "library/alpine", "latest", NULL, "docker.io/library/alpine");
        ref_is("index.docker.io/team/app:1", "registry-1.docker.io", "team/app", "1", NULL, "docker.io/team/app");
        ref_is("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", NULL, "127.0.0.1:5000/team/app");
        ref_is("localhost/app:v2", "localhost", "app", "v2", NULL, "localhost/app");
        snprintf(with_digest, sizeof(with_digest), "ghcr.io/o/r:t@%s", d);
        ref_is(with_digest, "ghcr.io", "o/r", "t", d, "ghcr.io/o/r");
        snprintf(with_digest, sizeof(with_digest), "127.0.0.1:5000/app@%s", d);
        ref_is(with_digest, "127.0.0.1:5000", "app", "latest", d, "127.0.0.1:5000/app");
        struct registry_ref r;
        static const char *const bad[] = {
                "ghcr.io/Upper/case",  "ghcr.io/o/r:bad tag", "ghcr.io/o/r@sha512:00", "ghcr.io/o/r@sha256:xyz",
                "ghcr.io/",            "ghcr.io/../etc",      "ghcr.io/o/r:",          "",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(registry_ref_parse(bad[i], &r), -EINVAL);
}

static void test_challenges(void **state)
{
        struct registry_challenge c;
        assert_int_equal(registry_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                                                  "scope=\"repository:library/alpine:pull\"",
                                                  &c),
                         0);
        assert_int_equal(c.scheme, REGISTRY_AUTH_BEARER);
        assert_string_equal(c.realm, "https://auth.docker.io/token");
        assert_string_equal(c.service, "registry.docker.io");
        assert_string_equal(c.scope, "repository:library/alpine:pull");
        registry_challenge_done(&c);
        assert_int_equal(registry_challenge_parse("basic realm=\"a \\\"quoted\\\" realm\", charset=UTF-8", &c), 0);
        assert_int_equal(c.scheme, REGISTRY_AUTH_BASIC);
        assert_string_equal(c.realm, "a \"quoted\" realm");
        assert_null(c.scope);
        registry_challenge_done(&c);
        assert_int_equal(registry_challenge_parse("Negotiate", &c), 0);
        assert_int_equal(c.scheme, REGISTRY_AUTH_NONE);
        registry_challenge_done(&c);
        assert_int_equal(registry_challenge_parse("Bearer realm=\"unterminated", &c), -EINVAL);
        assert_int_equal(registry_challenge_parse("Bearer =x", &c), -EINVAL);
        assert_int_equal(registry_challenge_parse("", &c), -EINVAL);
}

static void test_credentials(void **state)
{
        char dir[] = "/tmp/roost-auth-XXXXXX", file[96], other[96];
        assert_non_null(mkdtemp(dir));
        snprintf(file, sizeof(file), "%s/sub/auth.json", dir);
        snprintf(other, sizeof(other), "%s/docker.json", dir);
        char *u = NULL, *p = NULL;
        assert_int_equal(registry_creds_lookup(file, "127.0.0.1:5000", &u, &p), -ENOENT);
        assert_int_equal(registry_creds_store(file, "127.0.0.1:5000", "ci", "s3cr:et"), 0);
        assert_int_equal(registry_creds_store(file, "ghcr.io", "me", "tok"), 0);
        struct stat st;
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(registry_creds_lookup(file, "127.0.0.1:5000", &u, &p), 0);
        assert_string_equal(u, "ci");
        assert_string_equal(p, "s3cr:et"); /* only the first ':' splits */
        free(u);
        free(p);
        assert_int_equal(registry_creds_remove(file, "127.0.0.1:5000"), 0);
        assert_int_equal(registry_creds_lookup(file, "127.0.0.1:5000", &u, &p), -ENOENT);
        assert_int_equal(registry_creds_lookup(file, "ghcr.io", &u, &p), 0);
        free(u);
        free(p);
        assert_int_equal(registry_creds_remove(file, "127.0.0.1:5000"), -ENOENT);
        assert_int_equal(registry_creds_store(file, "x", "a:b", "c"), -EINVAL);
        /* docker's config.json names Docker Hub by its old URL */
        FILE *f = fopen(other, "w");
        fputs("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"},\"bad\":{\"auth\":\"!!!!\"}}}", f);
        fclose(f);
        assert_int_equal(registry_creds_lookup(other, "docker.io", &u, &p), 0);
        assert_string_equal(u, "u");
        assert_string_equal(p, "p");
        free(u);
        free(p);
        assert_int_equal(registry_creds_lookup(other, "bad", &u, &p), -ROOST_EFORMAT);
        /* logout of Docker Hub leaves no key a lookup would read */
        f = fopen(other, "w");
        fputs("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"},\"docker.io\":{\"auth\":\"dTpw\"},"
              "\"index.docker.io\":{\"auth\":\"dTpw\"},\"ghcr.io\":{\"auth\":\"dTpw\"}}}",
              f);
        fclose(f);
        assert_int_equal(registry_creds_remove(other, "docker.io"), 0);
        assert_int_equal(registry_creds_lookup(other, "docker.io", &u, &p), -ENOENT);
        assert_int_equal(registry_creds_lookup(other, "ghcr.io", &u, &p), 0);
        free(u);
        free(p);
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_login_names(void **state)
{
        char *n = NULL;
        const char *good[][2] = {
                { "127.0.0.1:5000", "127.0.0.1:5000" }, { "https://ghcr.io/", "ghcr.io" },
                { "http://localhost:5000", "localhost:5000" }, { "index.docker.io", "docker.io" },
                { "registry-1.docker.io", "docker.io" },     { "[::1]:5000", "[::1]:5000" },
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                assert_int_equal(registry_login_name(good[i][0], &n), 0);
                assert_string_equal(n, good[i][1]);
                free(n);
        }
        const char *bad[] = { "", "team/app", "ghcr.io/team", "a b", "https://", "x@y" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(registry_login_name(bad[i], &n), -EINVAL);
}

static void test_auth_files(void **state)
{
        char dir[] = "/tmp/roost-auth-XXXXXX", path[128];
        char *f = NULL, *u = NULL, *p = NULL, *h = NULL;
        assert_non_null(mkdtemp(dir));
        unsetenv("REGISTRY_AUTH_FILE");
        unsetenv("DOCKER_CONFIG");
        unsetenv("XDG_CONFIG_HOME");
        setenv("HOME", dir, 1);
        /* podman's path without XDG_RUNTIME_DIR: /run/containers/UID */
        unsetenv("XDG_RUNTIME_DIR");
        assert_int_equal(registry_auth_file(&f), 0);
        snprintf(path, sizeof(path), "/run/containers/%u/auth.json", (unsigned)geteuid());
        assert_string_equal(f, path);
        free(f);
        setenv("XDG_RUNTIME_DIR", dir, 1);
        assert_int_equal(registry_auth_file(&f), 0);
        snprintf(path, sizeof(path), "%s/containers/auth.json", dir);
        assert_string_equal(f, path);
        /* not there: docker's file answers; its helpers are named */
        snprintf(path, sizeof(path), "%s/.docker", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/.docker/config.json", dir);
        FILE *o = fopen(path, "w");
        fputs("{\"auths\":{\"a.example\":{\"auth\":\"dTpw\"},\"b.example\":{}},"
              "\"credHelpers\":{\"b.example\":\"pass\"},\"credsStore\":\"desktop\"}",
              o);
        fclose(o);
        assert_int_equal(registry_creds_lookup(NULL, "a.example", &u, &p), 0);
        assert_string_equal(u, "u");
        free(u);
        free(p);
        assert_int_equal(registry_creds_lookup(NULL, "b.example", &u, &p), -ENOENT);
        assert_int_equal(registry_creds_helper(NULL, "b.example", &h), 0);
        assert_string_equal(h, "docker-credential-pass");
        free(h);
        assert_int_equal(registry_creds_helper(NULL, "c.example", &h), 0);
        assert_string_equal(h, "docker-credential-desktop");
        free(h);
        /* roost login's file comes first */
        assert_int_equal(registry_creds_store(f, "a.example", "mine", "pw"), 0);
        assert_int_equal(registry_creds_lookup(NULL, "a.example", &u, &p), 0);
        assert_string_equal(u, "mine");
        free(u);
        free(p);
        assert_int_equal(registry_creds_remove_all(f), 0);
        assert_int_equal(registry_creds_remove_all(f), -ENOENT);
        /* $REGISTRY_AUTH_FILE: that file alone, as podman reads it */
        setenv("REGISTRY_AUTH_FILE", f, 1);
        assert_int_equal(registry_creds_lookup(NULL, "a.example", &u, &p), -ENOENT);
        unsetenv("REGISTRY_AUTH_FILE");
        free(f);
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static const char index_json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:"
        "1111111111111111111111111111111111111111111111111111111111111111\",\"size\":500,"
        "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:"
        "2222222222222222222222222222222222222222222222222222222222222222\",\"size\":501,"
        "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:"
        "3333333333333333333333333333333333333333333333333333333333333333\",\"size\":502,"
        "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}}]}";

static void test_index(void **state)
{
        struct registry_desc d;
        char *list = NULL;
        bool is_index = false;
        assert_int_equal(registry_is_index(index_json, strlen(index_json), NULL, &is_index), 0);
        assert_true(is_index);
        assert_int_equal(registry_index_pick(index_json, strlen(index_json), "aarch64", &d, NULL), 0);
        assert_string_equal(d.hex, "2222222222222222222222222222222222222222222222222222222222222222");
        assert_int_equal(d.size, 501);
        free(d.media_type);
        assert_int_equal(registry_index_pick(index_json, strlen(index_json), "armv7", &d, NULL), 0);
        assert_int_equal(d.size, 502);
        free(d.media_type);
        assert_int_equal(registry_index_pick(index_json, strlen(index_json), "s390x", &d, &list), -ROOST_ENOTFOUND);
        assert_string_equal(list, "linux/amd64, linux/arm64/v8, linux/arm/v7");
        free(list);
        assert_int_equal(registry_is_index("[]", 2, NULL, &is_index), -EINVAL);
        assert_int_equal(registry_is_index("{\"mediaType\":\"text/plain\"}", 26, NULL, &is_index), -EINVAL);
}

static void test_manifest(void **state)
{
        static const char m[] =
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":10,"
                "\"digest\":\"sha256:4444444444444444444444444444444444444444444444444444444444444444\"},"
                "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":7,"
                "\"digest\":\"sha256:5555555555555555555555555555555555555555555555555555555555555555\"}]}";
        struct registry_desc config, *layers;
        size_t n;
        bool is_index = true;
        assert_int_equal(registry_is_index(m, strlen(m), NULL, &is_index), 0);
        assert_false(is_index);
        assert_int_equal(registry_manifest_parse(m, strlen(m), 16, &config, &layers, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(config.size, 10);
        assert_string_equal(layers[0].hex, "5555555555555555555555555555555555555555555555555555555555555555");
        free(config.media_type);
        registry_desc_free(layers, n);
        assert_int_equal(registry_manifest_parse(m, strlen(m), 0, &config, &layers, &n), -E2BIG);
        char *zstd = strdup(m);
        memcpy(strstr(zstd, "tar.gzip"), "tar.zstd", 8);
        assert_int_equal(registry_manifest_parse(zstd, strlen(zstd), 16, &config, &layers, &n), -EOPNOTSUPP);
        free(zstd);
        char *neg = strdup(m);
        memcpy(strstr(neg, "\"size\":7"), "\"size\":-", 8);
        assert_int_equal(registry_manifest_parse(neg, strlen(neg), 16, &config, &layers, &n), -ROOST_EFORMAT);
        free(neg);
}

/* What push shares with pull: plain HTTP only to loopback, a Basic
 * header, a query's escaping. */
static void test_shared(void **state)
{
        (void)state;
        assert_true(registry_host_loopback("127.0.0.1:5000"));
        assert_true(registry_host_loopback("127.8.9.10"));
        assert_true(registry_host_loopback("localhost:5000"));
        assert_true(registry_host_loopback("[::1]:5000"));
        assert_false(registry_host_loopback("128.0.0.1:5000"));
        assert_false(registry_host_loopback("registry.example:5000"));
        assert_false(registry_host_loopback("localhost.example"));
        assert_false(registry_host_loopback("127.0.0.1.example:5000"));
        char *h;
        assert_int_equal(registry_basic_header("roost", "s3cret:x", &h), 0);
        assert_string_equal(h, "Authorization: Basic cm9vc3Q6czNjcmV0Ong="); /* base64("roost:s3cret:x") */
        free(h);
        char *q = registry_query_escape("repository:team/app:pull,push ~a_b-c.d");
        assert_string_equal(q, "repository%3Ateam%2Fapp%3Apull%2Cpush%20~a_b-c.d");
        free(q);
}

/* The shared conversation's parts that need no network: the error JSON's
 * line and code, the hint, a challenge roost cannot or must not answer. */
static void failed_is(const struct registry_session *s, const char *body, long status,
                      const char *retry_after, int r, int want, const char *msg)
{
        roost_error e = { .msg = "transport's own" };
        struct registry_answer a = { status, body, body ? strlen(body) : 0, retry_after };
        assert_int_equal(registry_session_failed(s, "W", &a, r, &e), want);
        assert_string_equal(e.msg, msg);
}

static void test_session(void **state)
{
        (void)state;
        char dir[] = "/tmp/roost-session-XXXXXX", file[128], none[128];
        assert_non_null(mkdtemp(dir));
        snprintf(file, sizeof(file), "%s/auth.json", dir);
        snprintf(none, sizeof(none), "%s/missing.json", dir);
        FILE *f = fopen(file, "w");
        assert_non_null(f);
        fputs("{\"credHelpers\":{\"registry-1.docker.io\":\"pass\"}}", f);
        fclose(f);
        unsetenv("DOCKER_CONFIG");
        struct registry_session s = { .registry = "127.0.0.1:5000",
                                      .name = "127.0.0.1:5000/team/app",
                                      .authfile = none };
        const char *unknown =
                "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}";
        failed_is(&s, unknown, 404, NULL, -ROOST_ENOTFOUND, -ROOST_ENOTFOUND,
                  "W: not found on 127.0.0.1:5000 (MANIFEST_UNKNOWN: manifest unknown)");
        /* Nothing explained: the transport's message stands, or the status says. */
        failed_is(&s, "<html>gateway</html>", 502, NULL, -ROOST_ENETWORK, -ROOST_ENETWORK, "transport's own");
        failed_is(&s, "<html>gateway</html>", 502, NULL, 0, -ROOST_ENETWORK,
                  "W: 127.0.0.1:5000 answered HTTP 502");
        failed_is(
                &s, NULL, 401, NULL, 0, -ROOST_EHTTP,
                "W: 127.0.0.1:5000 refused access (HTTP 401, unauthorized): give --creds USER:PASS, or roost "
                "login 127.0.0.1:5000");
        failed_is(&s, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow\\u001b[2Jdown\"}]}", 429,
                  "7", -ROOST_EHTTP, -ROOST_ENETWORK,
                  "W: 127.0.0.1:5000 asks to slow down (TOOMANYREQUESTS: slow [2Jdown); retry after 7 s");
        const char *blob = "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}";
        failed_is(&s, blob, 404, NULL, -ROOST_ENOTFOUND, -ROOST_ENOTFOUND,
                  "W: not found on 127.0.0.1:5000 (BLOB_UNKNOWN)");
        /* A push's manifest naming a blob the registry lacks: the store's. */
        s.push = true;
        failed_is(&s, blob, 400, NULL, 0, -ROOST_EDIGEST,
                  "W: 127.0.0.1:5000 refused it (BLOB_UNKNOWN): the store's copy may be damaged (roost "
                  "verify)");

        /* Credentials: given once, kept out of every message, wiped. */
        roost_error e = { 0 };
        s.creds = "roost:s3cret";
        assert_int_equal(registry_session_answer(&s, NULL, NULL, &e), -ROOST_EHTTP);
        assert_string_equal(e.msg, "127.0.0.1:5000 asks for authentication roost cannot give (no challenge)");
        s.plain_http = true;
        assert_int_equal(registry_session_answer(&s, NULL, "Basic realm=\"r\"", &e), -ROOST_EHTTP);
        assert_null(strstr(e.msg, "s3cret"));
        assert_null(s.auth);
        s.plain_http = false;
        assert_int_equal(registry_session_answer(&s, NULL, "Basic realm=\"r\"", &e), 0);
        assert_string_equal(s.auth, "Authorization: Basic cm9vc3Q6czNjcmV0");
        /* A token realm over plain HTTP gets nothing. */
        assert_int_equal(registry_session_answer(&s, NULL, "Bearer realm=\"http://t.example/token\"", &e),
                         -ROOST_EPROTO);
        assert_null(strstr(e.msg, "s3cret"));
        failed_is(&s, NULL, 403, NULL, 0, -ROOST_EHTTP,
                  "W: 127.0.0.1:5000 refused access (HTTP 403, denied): the credentials are not accepted, or "
                  "allow no push there");
        assert_int_equal(registry_session_add_scope(&s, "repository:team/app:pull"), 0);
        assert_int_equal(registry_session_add_scope(&s, "repository:team/app:pull"), 0);
        assert_int_equal(s.n_scopes, 1);
        registry_session_done(&s);
        assert_null(s.user);
        assert_null(s.pass);
        assert_null(s.auth);
        assert_null(s.scopes);

        /* --creds without a user: refused before anything is sent. */
        s = (struct registry_session){ .registry = "127.0.0.1:5000", .creds = ":pw", .authfile = none };
        assert_int_equal(registry_session_creds(&s, &e), -ROOST_EUSAGE);
        registry_session_done(&s);

        /* Docker Hub's credentials kept by a helper: named, with the name
         * roost login takes. */
        char hint[300];
        s = (struct registry_session){ .registry = "registry-1.docker.io",
                                       .name = "docker.io/library/alpine",
                                       .authfile = file };
        assert_string_equal(registry_session_hint(&s, hint, sizeof(hint)),
                            ": its credentials are kept by docker-credential-pass, a credential helper roost "
                            "does not run; give --creds USER:PASS, or roost login docker.io");
        unlink(file);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_references), cmocka_unit_test(test_challenges),
                cmocka_unit_test(test_credentials), cmocka_unit_test(test_index),
                cmocka_unit_test(test_manifest), cmocka_unit_test(test_shared),
                cmocka_unit_test(test_login_names), cmocka_unit_test(test_auth_files),
                cmocka_unit_test(test_session),
#ifndef __SANITIZE_ADDRESS__
                cmocka_unit_test(test_creds_wiped),
#endif
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
