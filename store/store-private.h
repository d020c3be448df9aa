/* Shared between the store's own files; not part of its public face. */
#pragma once
#include "store/store.h"

struct store {
        char *root;
        int fd;
        int lock_fd;
        int cleaned; /* temporaries store_open removed */
};

/* Take an exclusive lock on locks/<kind>-<key>, waiting for it. Returns
 * the fd holding the lock. */
int store_lock_object(store *s, const char *kind, const char *key);
