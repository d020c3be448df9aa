/* The tools' side of trust/: which keys to trust, and a check of one
 * signature run by the verifier process (trust/roost-verify.c), fed the
 * signed bytes through a socket as they stream in: hashed once, never read
 * again from disk. The tools never load librnp themselves.
 *
 * A pull starts its verifier when it reads its options (trust_keys_load),
 * so that the verifier loads librnp and parses the keys while pull waits
 * for the network; the check that follows takes that process. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/util.h"
#include "trust/trust.h"
#include "trust/trust-wire.h"

struct trust_check {
        trust_keys *owner; /* reaps the verifier when it outlives its verdict */
        pid_t child;
        int wfd; /* the stream: the signature, then the signed bytes */
        int vfd; /* the verifier's answers */
        bool ready;
};

struct trust_keys {
        char *alpine; /* the folder of Alpine's key, or NULL */
        char **files;
        size_t n_files;
        struct trust_check *spare; /* a verifier started ahead */
        pid_t *exiting;            /* verifiers that gave their verdict */
        size_t n_exiting;
};

int trust_keys_new(trust_keys **ret, roost_error *e)
{
        if (!(*ret = calloc(1, sizeof(**ret))))
                return roost_error_set(e, -ENOMEM, "loading keys");
        return 0;
}

void trust_keys_free(trust_keys *k)
{
        if (!k)
                return;
        trust_check_abort(k->spare);
        for (size_t i = 0; i < k->n_exiting; i++)
                while (waitpid(k->exiting[i], NULL, 0) < 0 && errno == EINTR)
                        ;
        free(k->exiting);
        free(k->alpine);
        for (size_t i = 0; i < k->n_files; i++)
                free(k->files[i]);
        free(k->files);
        free(k);
}

int trust_keys_add_file(trust_keys *k, const char *path, roost_error *e)
{
        /* Read by the verifier; that it can be read is known now. */
        if (access(path, R_OK) < 0)
                return roost_error_set(e, -errno, "reading the key %s", path);
        char **f = realloc(k->files, (k->n_files + 1) * sizeof(*f));
        if (!f)
                return roost_error_set(e, -ENOMEM, "loading keys");
        k->files = f;
        if (!(f[k->n_files] = realpath(path, NULL)))
                return roost_error_set(e, -errno, "reading the key %s", path);
        k->n_files++;
        return 0;
}

int trust_keys_add_alpine(trust_keys *k, const char *dir, roost_error *e)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, TRUST_ALPINE_KEY_FILE) < 0)
                return roost_error_set(e, -ENOMEM, "loading Alpine's key");
        if (access(path, R_OK) < 0)
                return roost_error_set(e, -errno, "reading Alpine's key %s", path);
        free(k->alpine);
        return (k->alpine = strdup(dir)) ? 0 : roost_error_set(e, -ENOMEM, "loading Alpine's key");
}

int trust_keys_add_shipped(trust_keys *k, roost_error *e)
{
        /* The installed key first: an installed roost never reads a build
         * tree. A build run in place (and the tests) find theirs. */
        static const char *const dirs[] = { TRUST_KEYS_DIR, TRUST_SOURCE_KEYS_DIR };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dirs[i], TRUST_ALPINE_KEY_FILE) < 0)
                        return roost_error_set(e, -ENOMEM, "loading Alpine's key");
                if (access(path, F_OK) == 0)
                        return trust_keys_add_alpine(k, dirs[i], e);
        }
        return roost_error_set(e, 0, "Alpine's release key %s is missing from %s (reinstall roost)",
                               TRUST_ALPINE_KEY_FILE, TRUST_KEYS_DIR),
               -ROOST_ENOTFOUND;
}

static int add_trusted(trust_keys *k, const char *path, const char *what, roost_error *e)
{
        int r = trust_keys_add_file(k, path, e);
        if (r >= 0)
                return 0;
        char why[sizeof(e->msg)];
        snprintf(why, sizeof(why), "%s", e->msg);
        roost_error_set(e, 0, "%s%s: %s", what, path, why);
        return r == -ENOENT ? -ROOST_ENOTFOUND : -ROOST_EUSAGE;
}

/* The verifier: the build tree's for a program run from the build tree
 * (a build run in place, the tests: never an installed one of another
 * version, which would not speak the same wire), else the installed one. */
static const char *verifier_path(void)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = 0;
                if (!strncmp(self, TRUST_BUILD_DIR, strlen(TRUST_BUILD_DIR)) && access(TRUST_BUILD_VERIFIER, X_OK) == 0)
                        return TRUST_BUILD_VERIFIER;
        }
        return access(TRUST_VERIFIER, X_OK) == 0 ? TRUST_VERIFIER : TRUST_BUILD_VERIFIER;
}

/* Start a verifier for K's keys. */
static int spawn(const trust_keys *k, struct trust_check **ret, roost_error *e)
{
        size_t n = 0;
        _cleanup_free_ char **argv = calloc(k->n_files + 4, sizeof(char *));
        if (!argv)
                return roost_error_set(e, -ENOMEM, "checking the signature");
        argv[n++] = (char *)"roost-verify";
        if (k->alpine) {
                argv[n++] = (char *)"--alpine";
                argv[n++] = k->alpine;
        }
        for (size_t i = 0; i < k->n_files; i++)
                argv[n++] = k->files[i];
        int s[2] = { -1, -1 }, v[2] = { -1, -1 };
        /* A socket, not a pipe, for the bytes: a verifier that died gives
         * the writer EPIPE (MSG_NOSIGNAL), never a SIGPIPE. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0 || pipe2(v, O_CLOEXEC) < 0) {
                int r = -errno;
                closep(&s[0]);
                closep(&s[1]);
                return roost_error_set(e, r, "checking the signature");
        }
        /* A larger buffer lets the download run ahead of the check. */
        int size = 1 << 20;
        (void)setsockopt(s[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        const char *path = verifier_path();
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                if (null < 0 || dup2(s[1], 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
                    dup2(v[1], TRUST_WIRE_ANSWER_FD) < 0)
                        _exit(127);
                execv(path, argv);
                _exit(127);
        }
        int r = pid < 0 ? -errno : 0;
        close(s[1]);
        close(v[1]);
        if (r < 0) {
                close(s[0]);
                close(v[0]);
                return roost_error_set(e, r, "starting the signature check");
        }
        struct trust_check *c = calloc(1, sizeof(*c));
        if (!c) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                close(s[0]);
                close(v[0]);
                return roost_error_set(e, -ENOMEM, "checking the signature");
        }
        *c = (struct trust_check){ .child = pid, .wfd = s[0], .vfd = v[0] };
        *ret = c;
        return 0;
}

int trust_keys_load(const char *const *files, size_t n, trust_keys **ret, roost_error *e)
{
        trust_keys *k;
        int r = trust_keys_new(&k, e);
        if (r < 0)
                return r;
        if ((r = trust_keys_add_shipped(k, e)) < 0)
                goto fail;
        const char *env = getenv("ROOST_TRUST");
        if (env && *env) {
                _cleanup_free_ char *list = strdup(env);
                if (!list) {
                        r = roost_error_set(e, -ENOMEM, "loading keys");
                        goto fail;
                }
                char *save = NULL;
                for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save))
                        if ((r = add_trusted(k, p, "ROOST_TRUST ", e)) < 0)
                                goto fail;
        }
        for (size_t i = 0; i < n; i++)
                if ((r = add_trusted(k, files[i], "--trust ", e)) < 0)
                        goto fail;
        /* Started now: its start-up runs while the caller's network does. */
        roost_error ignored;
        (void)spawn(k, &k->spare, &ignored);
        *ret = k;
        return 0;
fail:
        trust_keys_free(k);
        return r;
}

static int read_answer(struct trust_check *c, void *buf, size_t n)
{
        char *p = buf;
        while (n > 0) {
                ssize_t k = read(c->vfd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EPIPE;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

static int send_all(int fd, const void *buf, size_t n)
{
        const char *p = buf;
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

int trust_check_begin(trust_keys *k, const void *sig, size_t sig_len, trust_check **ret, roost_error *e)
{
        if (sig_len == 0)
                return roost_error_set(e, 0, "the signature file is empty"), -ROOST_ESIGNATURE;
        if (sig_len > TRUST_WIRE_SIG_MAX)
                return roost_error_set(e, 0, "the signature file is larger than 1 MiB"), -ROOST_ESIGNATURE;
        struct trust_check *c = TAKE_PTR(k->spare);
        int r;
        if (!c && (r = spawn(k, &c, e)) < 0)
                return r;
        c->owner = k;
        struct trust_ready ready;
        if (read_answer(c, &ready, sizeof(ready)) < 0) {
                trust_check_abort(c);
                return roost_error_set(e, 0, "the signature checker (%s) did not start", verifier_path()),
                       -ROOST_ESIGNATURE;
        }
        if (ready.status < 0) {
                ready.why[sizeof(ready.why) - 1] = 0;
                trust_check_abort(c);
                roost_error_set(e, 0, "%s", ready.why);
                return ready.status == -ROOST_ESIGNATURE ? -ROOST_ESIGNATURE : -ROOST_EFORMAT;
        }
        uint32_t len = (uint32_t)sig_len;
        if ((r = send_all(c->wfd, &len, sizeof(len))) < 0 || (r = send_all(c->wfd, sig, sig_len)) < 0) {
                trust_check_abort(c);
                return roost_error_set(e, r, "checking the signature");
        }
        *ret = c;
        return 0;
}

int trust_check_update(trust_check *c, const void *buf, size_t n)
{
        return send_all(c->wfd, buf, n);
}

/* A verifier that gave its verdict still has to exit, which takes it a
 * few milliseconds (freeing librnp, the kernel unmapping it): its owner
 * collects it at the end, so that the caller stores the verified bytes
 * meanwhile. */
static void reap(trust_check *c)
{
        pid_t r;
        while ((r = waitpid(c->child, NULL, c->owner ? WNOHANG : 0)) < 0 && errno == EINTR)
                ;
        if (r != 0)
                return;
        trust_keys *k = c->owner;
        /* Those of earlier checks that are gone by now are collected, so
         * that a command checking many images keeps few waiting. */
        size_t kept = 0;
        for (size_t i = 0; i < k->n_exiting; i++)
                if (waitpid(k->exiting[i], NULL, WNOHANG) == 0)
                        k->exiting[kept++] = k->exiting[i];
        k->n_exiting = kept;
        pid_t *p = realloc(k->exiting, (k->n_exiting + 1) * sizeof(*p));
        if (!p) {
                while (waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
                        ;
                return;
        }
        k->exiting = p;
        p[k->n_exiting++] = c->child;
}

/* End C: collect the verifier (stopped first when KILL_IT). */
static void finish(trust_check *c, bool kill_it, struct trust_verdict *v)
{
        closep(&c->wfd);
        c->wfd = -1;
        if (kill_it) {
                kill(c->child, SIGKILL);
                c->owner = NULL; /* collected now: it was stopped, not done */
        } else if (read_answer(c, v, sizeof(*v)) < 0) {
                *v = (struct trust_verdict){ .good = false };
                snprintf(v->why, sizeof(v->why), "the signature check stopped without a verdict");
        }
        reap(c);
        closep(&c->vfd);
        free(c);
}

int trust_check_end(trust_check *c, struct trust_verdict *ret, roost_error *e)
{
        struct trust_verdict v = { 0 };
        if (!c) {
                *ret = v;
                roost_error_set(e, 0, "the signature check did not run");
                return -ROOST_ESIGNATURE;
        }
        finish(c, false, &v);
        v.why[sizeof(v.why) - 1] = v.signer[sizeof(v.signer) - 1] = 0;
        v.user_id[sizeof(v.user_id) - 1] = v.hash[sizeof(v.hash) - 1] = 0;
        *ret = v;
        if (v.good)
                return 0;
        roost_error_set(e, 0, "%s", v.why);
        return -ROOST_ESIGNATURE;
}

void trust_check_abort(trust_check *c)
{
        if (c)
                finish(c, true, NULL);
}

int trust_check_fd(trust_keys *k, const void *sig, size_t sig_len, int fd, struct trust_verdict *ret,
                   roost_error *e)
{
        trust_check *c;
        int r = trust_check_begin(k, sig, sig_len, &c, e);
        if (r < 0)
                return r;
        static _Thread_local char buf[1 << 16];
        for (off_t off = 0;;) {
                ssize_t n = pread(fd, buf, sizeof(buf), off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        trust_check_abort(c);
                        return roost_error_set(e, r, "reading the signed file");
                }
                if (n == 0)
                        break;
                if ((r = trust_check_update(c, buf, (size_t)n)) < 0) {
                        trust_check_abort(c);
                        return roost_error_set(e, r, "checking the signature");
                }
                off += n;
        }
        return trust_check_end(c, ret, e);
}
