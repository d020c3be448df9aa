/* roost's error model: functions return 0 (or more) on success and a
 * negative value on failure: -errno for system errors, or one of the
 * private codes below, which sit above every errno value. */
#pragma once

enum {
        ROOST_ERR_BASE = 4096,
        ROOST_ENOTFOUND, /* unknown image, version, reference or release */
        ROOST_EDIGEST,   /* checksum mismatch */
        ROOST_ESIZE,     /* size differs from what was announced */
        ROOST_EFORMAT,   /* unparsable index, checksum file or metadata */
        ROOST_EHTTP,     /* permanent HTTP failure (4xx) */
        ROOST_ENETWORK,  /* transient network failure that outlived retries */
        ROOST_ETLS,      /* TLS handshake or certificate failure */
        ROOST_EPROTO,    /* scheme or redirect refused */
        ROOST_EUNSAFE,   /* archive entry or name that would escape its root */
        ROOST_EARCHIVE,  /* corrupt, truncated or unreadable archive */
        ROOST_ELIMIT,    /* a configured limit was exceeded */
        ROOST_EUSAGE,    /* bad command line */
        ROOST_EOLDSTORE, /* a store in roost's earlier layout that cannot be migrated here */
        ROOST_ESIGNATURE, /* an OpenPGP signature that does not verify, or none where one is needed */
        ROOST_ERR_MAX,
};

/* Exit codes shared by the tools, documented in the man pages. launch uses
 * 125/126/127 for its own failures and passes the command's status through. */
enum {
        EXIT_FAIL = 1,     /* anything not listed below */
        EXIT_USAGE = 2,    /* bad command line or reference */
        EXIT_NOTFOUND = 3, /* image, version or reference does not exist */
        EXIT_NETWORK = 4,  /* mirror unreachable, TLS or HTTP failure */
        EXIT_VERIFY = 5,   /* checksum, size or signature check failed */
        EXIT_STORE = 6,    /* store could not be opened, locked or written */
        EXIT_ARCHIVE = 7,  /* archive corrupt, hostile or over a limit */
};

const char *roost_strerror(int r);
int roost_exit_code(int r);

/* Context for one good message, filled where the failure is understood and
 * printed by the tool's main: "verifying alpine-minirootfs-3.22.1-x86_64.tar.gz:
 * sha256 mismatch (expected 1a2b…, got 9f8e…)". */
typedef struct {
        char msg[1024];
} roost_error;

/* Format the context into E (when E is not NULL) and return R, so that a
 * failure reads `return roost_error_set(e, r, "opening %s", name);`. When R
 * is not 0 its text is appended after a colon. */
int roost_error_set(roost_error *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
