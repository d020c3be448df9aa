/* What the fuzz targets share: a scratch file system (a tmpfs of the
 * fuzzer's own, in a private mount namespace) for the targets that must
 * write files, and a few helpers over it. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Enter a mount namespace of this process's own and mount a fresh tmpfs
 * there, once per process; from LLVMFuzzerInitialize, before libFuzzer
 * starts a thread (unshare(CLONE_NEWNS) refuses a process that shares its
 * file system state). Returns the tmpfs's directory fd; aborts when none
 * can be had. */
int fuzz_scratch(void);
/* Its path, for the functions that take one. */
const char *fuzz_scratch_path(void);
/* Remove everything in it: each input starts from an empty file system. */
void fuzz_scratch_empty(void);
/* Write DATA as the file NAME in the scratch directory; aborts on failure. */
void fuzz_write(const char *name, const void *data, size_t n);
/* DATA in a memory file, at offset 0: an archive "in memory" for the code
 * that reads from an fd. */
int fuzz_memfd(const void *data, size_t n);
/* A NUL-terminated copy of DATA (the parsers that take C strings). */
char *fuzz_strndup(const uint8_t *data, size_t n);
