/* Bringing up lo in a fresh network namespace. One SIOCSIFFLAGS ioctl on a
 * datagram socket does it (as Nix does); the kernel then gives lo 127.0.0.1
 * and ::1 by itself, so no rtnetlink address messages are needed. */
#include "sandbox/sandbox-net.h"

#include "sandbox/sandbox-sys.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

/* Async-signal-safe. */
int sandbox_net_loopback_up(void)
{
        int fd = (int)sys3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return fd;
        struct ifreq ifr = {0};
        ifr.ifr_name[0] = 'l';
        ifr.ifr_name[1] = 'o';
        ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
        int r = (int)sys3(SYS_ioctl, fd, SIOCSIFFLAGS, &ifr);
        sys_close(fd);
        return r < 0 ? r : 0;
}
