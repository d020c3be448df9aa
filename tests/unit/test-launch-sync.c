/* The messages between launch and its container's side (launch/sync.h),
 * over a real pipe: whole messages pass, EOF, short and unknown ones are
 * told apart, and sync_fail leaves its line and status for launch. */
#include "config.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "launch/sync.h"

static void test_round_trip(void **state)
{
        int p[2];
        struct sync_msg m;
        assert_int_equal(pipe(p), 0);
        assert_int_equal(sync_send(p[1], &(struct sync_msg){ .kind = SYNC_GO }), 0);
        assert_int_equal(sync_send(p[1], &(struct sync_msg){ .kind = SYNC_NET_READY }), 0);
        assert_int_equal(sync_recv(p[0], &m), 0);
        assert_int_equal(m.kind, SYNC_GO);
        assert_int_equal(sync_recv(p[0], &m), 0);
        assert_int_equal(m.kind, SYNC_NET_READY);
        close(p[1]);
        assert_int_equal(sync_recv(p[0], &m), -EPIPE);
        close(p[0]);
}

static void test_bad_messages(void **state)
{
        int p[2];
        struct sync_msg m;
        assert_int_equal(pipe(p), 0);
        /* What the child read before messages were named: one byte. */
        assert_int_equal(write(p[1], "1", 1), 1);
        assert_int_equal(sync_recv(p[0], &m), -EPROTO);
        assert_int_equal(sync_send(p[1], &(struct sync_msg){ .kind = 99 }), 0);
        assert_int_equal(sync_recv(p[0], &m), -EPROTO);
        close(p[0]);
        /* A reader that is gone: EPIPE, not a signal (launch ignores SIGPIPE too). */
        signal(SIGPIPE, SIG_IGN);
        assert_int_equal(sync_send(p[1], &(struct sync_msg){ .kind = SYNC_GO }), -EPIPE);
        close(p[1]);
}

static void test_fail(void **state)
{
        int p[2], ws;
        struct sync_msg m;
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                errno = ENOENT;
                sync_fail(p[1], -ENOENT, 127, "command %s: %m", "x");
        }
        close(p[1]);
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFEXITED(ws));
        assert_int_equal(WEXITSTATUS(ws), 127);
        assert_int_equal(sync_recv(p[0], &m), 0);
        assert_int_equal(m.kind, SYNC_FAILED);
        assert_int_equal(m.r, -ENOENT);
        assert_int_equal(m.status, 127);
        assert_string_equal(m.msg, "command x: No such file or directory");
        close(p[0]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_bad_messages),
                cmocka_unit_test(test_fail),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
