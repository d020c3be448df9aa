/* libarchive's handles with the cleanup attribute. Only for code that
 * links libarchive (unpack, the front's export and import): common/ does
 * not. */
#pragma once

#include <archive.h>
#include "common/util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free)
#define _cleanup_archive_read_  _cleanup_(archive_read_freep)
#define _cleanup_archive_write_ _cleanup_(archive_write_freep)
