/* Internals of the unpack library shared between its files and its unit
 * tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "unpack/unpack.h"

struct archive;

/* ---- feed.c: decompression on a second thread ---- */

typedef struct unpack_feed unpack_feed;

/* Start decoding FD (any compression libarchive knows, or none) on a thread
 * of its own, into a small ring of buffers. TOTAL is the input's size, for
 * progress, or 0. */
int unpack_feed_start(int fd, uint64_t total, unpack_feed **ret, char *err, size_t errlen);
/* Hand the decoded stream to archive A as its input (archive_read_open). */
int unpack_feed_attach(unpack_feed *f, struct archive *a);
/* Compressed bytes consumed so far by what was handed out. */
uint64_t unpack_feed_consumed(unpack_feed *f);
/* The decoder's own error, when it failed (truncated or corrupt input), or
 * NULL. Only meaningful once the reader has seen the stream end. */
const char *unpack_feed_error(unpack_feed *f);
/* Decoded bytes handed out so far. */
uint64_t unpack_feed_decoded(unpack_feed *f);
/* Name of the compression found ("gzip", "none", ...). */
const char *unpack_feed_filter(unpack_feed *f);
/* Stop the thread (if still running) and free everything. */
void unpack_feed_free(unpack_feed *f);

/* ---- path.c: entry names ---- */

/* Split the entry name in BUF (modified in place) into components, dropping
 * empty and "." components, into PARTS (at most MAX). Returns the number of
 * components (0 names the root itself), or -ROOST_EUNSAFE with *WHY saying
 * what was refused: an empty or absolute name, a ".." component, a name
 * longer than PATH_MAX or a component longer than NAME_MAX, nesting deeper
 * than MAX. */
int unpack_path_split(char *buf, const char **parts, size_t max, const char **why);
