/* --net none: the new network namespace starts with a loopback that is
 * down; programs expect 127.0.0.1 to work. */
#include "config.h"
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/launch-private.h"

int net_loopback_up(roost_error *e)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return roost_error_set(e, -errno, "opening a socket to set up loopback");
        struct ifreq ifr = { 0 };
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return roost_error_set(e, -errno, "reading the flags of lo");
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return roost_error_set(e, -errno, "bringing lo up");
        return 0;
}
