/* Who a uid is, without loading NSS modules into this process. */
#pragma once
#include <sys/types.h>

/* The name and home directory of UID: from /etc/passwd when it is there,
 * else from `getent passwd UID`, which asks NSS (LDAP, sssd, systemd) in a
 * process of its own. A statically linked program cannot load NSS modules
 * safely: the host's are built against the host's shared libc (launch is
 * linked statically, docs/launch.md). *RET_NAME and *RET_HOME are
 * malloc'd, either may be NULL. 0, or -ENOENT when nobody knows UID. */
int user_lookup(uid_t uid, char **ret_name, char **ret_home);
