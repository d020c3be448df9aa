/* A detached signature checked over a stream. librnp reads the signed
 * bytes through a callback, so its check runs beside the caller, reading
 * them from a pipe while the caller writes what arrives: the bytes are
 * hashed once, as they stream in, never read again from disk.
 *
 * It runs in a child process rather than a thread: librnp as Debian builds
 * it writes its parsers' complaints to stderr with no way to turn them off,
 * and the child's stderr is /dev/null; and a signature is input from the
 * network, parsed where a fault cannot take the download with it. The
 * child sends its verdict back over a second pipe. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/util.h"
#include "trust/trust-private.h"

struct trust_check {
        trust_keys *keys;
        rnp_input_t sig;
        int rfd, wfd; /* the pipe: update writes, the child reads */
        int vfd;      /* the child's verdict */
        pid_t child;
        rnp_result_t result; /* rnp_op_verify_execute's */
        struct trust_verdict v;
};

static bool read_pipe(void *ctx, void *buf, size_t len, size_t *got)
{
        struct trust_check *c = ctx;
        for (;;) {
                ssize_t k = read(c->rfd, buf, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return false;
                *got = (size_t)k;
                return true;
        }
}

/* The signing key's primary: its fingerprint and user id. */
static void describe_signer(rnp_ffi_t ffi, rnp_key_handle_t key, struct trust_verdict *v)
{
        rnp_key_handle_t primary = NULL;
        bool is_primary = true;
        char *s = NULL;
        if (rnp_key_is_primary(key, &is_primary) == RNP_SUCCESS && !is_primary &&
            rnp_key_get_primary_grip(key, &s) == RNP_SUCCESS && s)
                rnp_locate_key(ffi, "grip", s, &primary);
        rnp_buffer_destroy(s);
        rnp_key_handle_t k = primary ? primary : key;
        if (rnp_key_get_fprint(k, &s) == RNP_SUCCESS && s)
                snprintf(v->signer, sizeof(v->signer), "%s", s);
        rnp_buffer_destroy(s);
        s = NULL;
        if (rnp_key_get_primary_uid(k, &s) == RNP_SUCCESS && s)
                snprintf(v->user_id, sizeof(v->user_id), "%s", s);
        rnp_buffer_destroy(s);
        if (primary)
                rnp_key_handle_destroy(primary);
}

/* What the one signature says, in C->v. */
static void judge(struct trust_check *c, rnp_op_verify_t op)
{
        struct trust_verdict *v = &c->v;
        size_t count = 0;
        rnp_op_verify_signature_t sig = NULL;
        if (rnp_op_verify_get_signature_count(op, &count) != RNP_SUCCESS || count == 0 ||
            rnp_op_verify_get_signature_at(op, 0, &sig) != RNP_SUCCESS) {
                snprintf(v->why, sizeof(v->why), "the signature file holds no signature (%s)",
                         rnp_result_to_string(c->result));
                return;
        }
        if (count > 1) {
                snprintf(v->why, sizeof(v->why), "the signature file holds %zu signatures; one is expected", count);
                return;
        }
        char *hash = NULL;
        uint32_t created = 0, expires = 0;
        if (rnp_op_verify_signature_get_hash(sig, &hash) == RNP_SUCCESS && hash)
                snprintf(v->hash, sizeof(v->hash), "%s", hash);
        rnp_buffer_destroy(hash);
        rnp_op_verify_signature_get_times(sig, &created, &expires);
        v->created = created;
        rnp_key_handle_t key = NULL;
        if (rnp_op_verify_signature_get_key(sig, &key) == RNP_SUCCESS && key) {
                describe_signer(c->keys->ffi, key, v);
                rnp_key_handle_destroy(key);
        }
        rnp_result_t status = rnp_op_verify_signature_get_status(sig);
        bool strong = !strcmp(v->hash, "SHA256") || !strcmp(v->hash, "SHA384") || !strcmp(v->hash, "SHA512");
        if (!strong && v->hash[0]) {
                snprintf(v->why, sizeof(v->why), "the signature uses %s, which roost refuses (SHA-256, "
                         "SHA-384 or SHA-512 only)", v->hash);
                return;
        }
        switch (status) {
        case RNP_SUCCESS:
                v->good = strong;
                if (!strong)
                        snprintf(v->why, sizeof(v->why), "the signature names no hash roost accepts");
                return;
        case RNP_ERROR_KEY_NOT_FOUND: {
                rnp_signature_handle_t h = NULL;
                char *id = NULL;
                if (rnp_op_verify_signature_get_handle(sig, &h) == RNP_SUCCESS)
                        rnp_signature_get_keyid(h, &id);
                snprintf(v->why, sizeof(v->why), "signed by key %s, which roost does not trust (add it with "
                         "--trust KEY.asc)", id ? id : "(unknown)");
                rnp_buffer_destroy(id);
                rnp_signature_handle_destroy(h);
                return;
        }
        case RNP_ERROR_SIGNATURE_EXPIRED:
                snprintf(v->why, sizeof(v->why), "the signature has expired");
                return;
        case RNP_ERROR_SIGNATURE_INVALID:
                snprintf(v->why, sizeof(v->why), "the signature does not match the file, or its key was not "
                         "valid when it was made");
                return;
        default:
                snprintf(v->why, sizeof(v->why), "the signature cannot be checked (%s)",
                         rnp_result_to_string(status));
        }
}

static void run(struct trust_check *c)
{
        rnp_input_t data = NULL;
        rnp_op_verify_t op = NULL;
        c->result = rnp_input_from_callback(&data, read_pipe, NULL, c);
        if (c->result == RNP_SUCCESS)
                c->result = rnp_op_verify_detached_create(&op, c->keys->ffi, data, c->sig);
        if (c->result == RNP_SUCCESS)
                c->result = rnp_op_verify_execute(op);
        if (op)
                judge(c, op);
        else
                snprintf(c->v.why, sizeof(c->v.why), "the signature cannot be read (%s)",
                         rnp_result_to_string(c->result));
        /* The writer must never meet a closed pipe: what librnp left unread
         * (it stops early on a refused hash) is drained to the end. */
        char buf[1 << 14];
        while (read(c->rfd, buf, sizeof(buf)) > 0 || errno == EINTR)
                ;
        rnp_op_verify_destroy(op);
        rnp_input_destroy(data);
}

int trust_check_begin(trust_keys *k, const void *sig, size_t sig_len, trust_check **ret, roost_error *e)
{
        if (sig_len == 0)
                return roost_error_set(e, 0, "the signature file is empty"), -ROOST_ESIGNATURE;
        struct trust_check *c = calloc(1, sizeof(*c));
        if (!c)
                return roost_error_set(e, -ENOMEM, "checking the signature");
        c->keys = k;
        c->rfd = c->wfd = c->vfd = -1;
        int p[2] = { -1, -1 };
        if (rnp_input_from_memory(&c->sig, sig, sig_len, true) != RNP_SUCCESS) {
                free(c);
                return roost_error_set(e, -ENOMEM, "checking the signature");
        }
        int v[2] = { -1, -1 };
        /* A socket, not a pipe, for the bytes: a child that died gives
         * the writer EPIPE (MSG_NOSIGNAL), never a SIGPIPE. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0 || pipe2(v, O_CLOEXEC) < 0) {
                int r = -errno;
                if (p[0] >= 0 && v[0] < 0) {
                        close(p[0]);
                        close(p[1]);
                }
                trust_check_abort(c);
                return roost_error_set(e, r, "checking the signature");
        }
        c->rfd = p[0];
        c->wfd = p[1];
        c->vfd = v[0];
        /* A larger buffer lets the download run ahead of the check. */
        int size = 1 << 20;
        (void)setsockopt(c->wfd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        c->child = fork();
        if (c->child < 0) {
                int r = -errno;
                close(v[1]);
                trust_check_abort(c);
                return roost_error_set(e, r, "checking the signature");
        }
        if (c->child == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, STDERR_FILENO);
                close(c->wfd);
                run(c);
                ssize_t w = write(v[1], &c->v, sizeof(c->v));
                _exit(w == (ssize_t)sizeof(c->v) ? 0 : 1);
        }
        close(v[1]);
        close(c->rfd);
        c->rfd = -1;
        *ret = c;
        return 0;
}

int trust_check_update(trust_check *c, const void *buf, size_t n)
{
        const char *p = buf;
        while (n > 0) {
                ssize_t k = send(c->wfd, p, n, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Close the stream and collect the child's verdict into C->v (when
 * KILL, stop it first: its bytes will not all come). */
static void finish(trust_check *c, bool kill_it)
{
        closep(&c->wfd);
        c->wfd = -1;
        if (c->child > 0) {
                if (kill_it)
                        kill(c->child, SIGKILL);
                struct trust_verdict v;
                ssize_t k;
                while ((k = read(c->vfd, &v, sizeof(v))) < 0 && errno == EINTR)
                        ;
                if (k == (ssize_t)sizeof(v) && !kill_it) {
                        c->v = v;
                        c->v.why[sizeof(c->v.why) - 1] = 0;
                        c->v.signer[sizeof(c->v.signer) - 1] = 0;
                        c->v.user_id[sizeof(c->v.user_id) - 1] = 0;
                        c->v.hash[sizeof(c->v.hash) - 1] = 0;
                } else if (!kill_it) {
                        c->v = (struct trust_verdict){ .good = false };
                        snprintf(c->v.why, sizeof(c->v.why), "the signature check stopped without a verdict");
                }
                while (waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
                        ;
                c->child = 0;
        }
        closep(&c->vfd);
        c->vfd = -1;
        closep(&c->rfd);
        c->rfd = -1;
        rnp_input_destroy(c->sig);
        c->sig = NULL;
}

int trust_check_end(trust_check *c, struct trust_verdict *ret, roost_error *e)
{
        finish(c, false);
        *ret = c->v;
        free(c);
        if (ret->good)
                return 0;
        roost_error_set(e, 0, "%s", ret->why);
        return -ROOST_ESIGNATURE;
}

void trust_check_abort(trust_check *c)
{
        if (!c)
                return;
        finish(c, true);
        free(c);
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
