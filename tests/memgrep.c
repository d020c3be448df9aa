/* memgrep: run a command and, as each of its processes ends, search that
 * process's memory for secrets it should have wiped, for
 * tests/secret-wipe.sh.
 *
 *   memgrep NEEDLES REPORT -- CMD [ARG...]
 *
 * The command and every process it forks or spawns run under ptrace
 * (PTRACE_O_TRACEEXIT): each stops in the kernel's exit path before its
 * memory is torn down, after exit(), its atexit handlers and the
 * libraries' destructors have run, so what is left there is what the
 * process left: freed heap blocks that were never overwritten included.
 * Its writable and anonymous mappings (heap, stacks, mmapped blocks,
 * data) are read through /proc/PID/mem and searched for each line of
 * NEEDLES (read then, so the file may be completed while the command
 * runs); a mapping over 4 GiB (AddressSanitizer's terabytes of shadow) is
 * passed over, saying so on standard error. Threads are not traced: a
 * process's memory is searched once, when its first thread ends, which
 * exit_group() brings. A process that ends without having run a program
 * of its own (a fork killed before its exec) is not searched: its memory
 * is its parent's at the fork, which still held what it held then; what
 * the parent leaves is searched when the parent ends.
 *
 * Every hit is a line appended to REPORT: "COMM[PID]: needle N at
 * MAPPING+0xOFFSET" (N counts NEEDLES' lines from 1; the needle itself is
 * never written). An empty REPORT is a clean run. The exit status is the
 * command's (128+N when signal N killed it), 125 when memgrep itself
 * fails. SIGSTOP is not passed on: a new tracee starts with one, and the
 * commands searched do not use it. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK       (1u << 20)
#define MAX_NEEDLES 64
#define MAX_HITS    20 /* per needle and process: enough to see where */
#define NEEDLE_MAX  4096
#define MAX_PROCS   1024
#define MAPPING_MAX (1ul << 32)

struct needles {
        char *text[MAX_NEEDLES];
        size_t len[MAX_NEEDLES], n, longest;
};

static int needles_read(const char *file, struct needles *nd)
{
        FILE *f = fopen(file, "re");
        char line[NEEDLE_MAX + 2];
        if (!f)
                return -errno;
        nd->n = nd->longest = 0;
        while (nd->n < MAX_NEEDLES && fgets(line, sizeof(line), f)) {
                size_t k = strcspn(line, "\n");
                line[k] = 0;
                /* Shorter strings turn up by chance in any process. */
                if (k < 6) {
                        nd->text[nd->n] = NULL;
                        nd->len[nd->n++] = 0;
                        continue;
                }
                if (!(nd->text[nd->n] = strdup(line))) {
                        fclose(f);
                        return -ENOMEM;
                }
                nd->len[nd->n++] = k;
                if (k > nd->longest)
                        nd->longest = k;
        }
        fclose(f);
        return 0;
}

static void needles_free(struct needles *nd)
{
        for (size_t i = 0; i < nd->n; i++) {
                free(nd->text[i]);
                nd->text[i] = NULL;
        }
        nd->n = 0;
}

/* Search [START, END) of PID's memory, appending hits to REPORT. */
static void search_range(int mem, pid_t pid, const char *comm, const char *name, unsigned long start,
                         unsigned long end, const struct needles *nd, unsigned *hits, FILE *report)
{
        static char buf[CHUNK + NEEDLE_MAX];
        size_t keep = 0;
        for (unsigned long at = start; at < end;) {
                size_t want = end - at < CHUNK ? (size_t)(end - at) : CHUNK;
                ssize_t k = pread(mem, buf + keep, want, (off_t)at);
                if (k <= 0)
                        return; /* a guard page, or a mapping gone: nothing to read */
                size_t have = keep + (size_t)k;
                /* buf[0] is at address at - keep. */
                unsigned long base = at - keep;
                for (size_t i = 0; i < nd->n; i++) {
                        if (!nd->len[i] || nd->len[i] > have)
                                continue;
                        for (const char *p = buf; hits[i] < MAX_HITS;) {
                                p = memmem(p, have - (size_t)(p - buf), nd->text[i], nd->len[i]);
                                if (!p)
                                        break;
                                /* One found across two reads was found in the last round. */
                                if ((size_t)(p - buf) + nd->len[i] > keep) {
                                        fprintf(report, "%s[%d]: needle %zu at %s+0x%lx\n", comm, (int)pid,
                                                i + 1, name, base + (unsigned long)(p - buf) - start);
                                        hits[i]++;
                                }
                                p++;
                        }
                }
                keep = nd->longest > 1 && have >= nd->longest - 1 ? nd->longest - 1 : 0;
                memmove(buf, buf + have - keep, keep);
                at += (unsigned long)k;
        }
}

/* PID stopped on its way out: search what it leaves. */
static int search(pid_t pid, const char *needles, FILE *report)
{
        char path[64], comm[32] = "?", line[4096];
        struct needles nd = { 0 };
        unsigned hits[MAX_NEEDLES] = { 0 };
        int r = needles_read(needles, &nd);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        FILE *f = fopen(path, "re");
        if (f) {
                if (fgets(comm, sizeof(comm), f))
                        comm[strcspn(comm, "\n")] = 0;
                fclose(f);
        }
        snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
        int mem = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        FILE *maps = fopen(path, "re");
        if (mem < 0 || !maps) {
                r = -errno;
                goto out;
        }
        while (fgets(line, sizeof(line), maps)) {
                unsigned long start, end;
                char perms[8];
                int name_at = 0;
                if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) < 3)
                        continue;
                char *name = line + name_at;
                name[strcspn(name, "\n")] = 0;
                /* A file mapped read-only holds the file's bytes; the kernel's
                 * own pages cannot be read. */
                if (perms[0] != 'r' || (perms[1] != 'w' && *name && *name != '[') ||
                    !strcmp(name, "[vvar]") || !strcmp(name, "[vsyscall]"))
                        continue;
                /* A sanitizer's shadow reserves terabytes, read in hours. */
                if (end - start > MAPPING_MAX) {
                        fprintf(stderr, "memgrep: %s[%d]: a mapping of %lu GiB not searched\n", comm,
                                (int)pid, (end - start) >> 30);
                        continue;
                }
                search_range(mem, pid, comm, *name ? name : "[anon]", start, end, &nd, hits, report);
        }
        r = 0;
out:
        if (maps)
                fclose(maps);
        if (mem >= 0)
                close(mem);
        fflush(report);
        needles_free(&nd);
        return r;
}

int main(int argc, char **argv)
{
        if (argc < 5 || strcmp(argv[3], "--") != 0) {
                fprintf(stderr, "usage: memgrep NEEDLES REPORT -- CMD [ARG...]\n");
                return 125;
        }
        const char *needles = argv[1];
        FILE *report = fopen(argv[2], "ae");
        if (!report) {
                fprintf(stderr, "memgrep: %s: %s\n", argv[2], strerror(errno));
                return 125;
        }
        pid_t pid = fork();
        if (pid < 0)
                return 125;
        if (pid == 0) {
                /* Stopped here, so that the options are set before exec. */
                if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 || raise(SIGSTOP) != 0)
                        _exit(125);
                execvp(argv[4], argv + 4);
                fprintf(stderr, "memgrep: cannot run %s: %s\n", argv[4], strerror(errno));
                _exit(125);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st) ||
            ptrace(PTRACE_SETOPTIONS, pid, NULL,
                   (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                  PTRACE_O_TRACEEXEC)) < 0 ||
            ptrace(PTRACE_CONT, pid, NULL, NULL) < 0) {
                fprintf(stderr, "memgrep: cannot trace %s: %s\n", argv[4], strerror(errno));
                kill(pid, SIGKILL);
                return 125;
        }
        /* The processes that ran a program: the command's once it starts. */
        pid_t execed[MAX_PROCS];
        size_t n_execed = 0;
        int status = 125;
        for (;;) {
                pid_t p = waitpid(-1, &st, __WALL);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p < 0)
                        break;
                if (WIFEXITED(st) || WIFSIGNALED(st)) {
                        if (p == pid) {
                                status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                                break;
                        }
                        continue;
                }
                if (!WIFSTOPPED(st))
                        continue;
                int sig = WSTOPSIG(st), event = (int)((unsigned)st >> 16), deliver = 0;
                size_t at = 0;
                while (at < n_execed && execed[at] != p)
                        at++;
                bool ran = at < n_execed;
                if (event == PTRACE_EVENT_EXEC && !ran && n_execed < MAX_PROCS) {
                        execed[n_execed++] = p;
                } else if (event == PTRACE_EVENT_EXIT && ran) {
                        /* Its pid may be another process's next. */
                        execed[at] = execed[--n_execed];
                        int r = search(p, needles, report);
                        if (r < 0) {
                                fprintf(stderr, "memgrep: searching process %d: %s\n", (int)p, strerror(-r));
                                fprintf(report, "memgrep: searching process %d failed\n", (int)p);
                                fflush(report);
                        }
                } else if (!event && sig != SIGSTOP && sig != SIGTRAP) {
                        deliver = sig;
                }
                ptrace(PTRACE_CONT, p, NULL, (void *)(long)deliver);
        }
        fclose(report);
        return status;
}
