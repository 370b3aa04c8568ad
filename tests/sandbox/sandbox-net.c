/* Network namespace: only lo, up, with working IPv4 and IPv6 loopback;
 * nothing outside reachable (a listener on the host's own addresses stands
 * in for "outside", so no traffic leaves the machine); --share-net keeps the
 * host's network. */
#include "probe-run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

static void run_ok(const char *const *opts, const char *const *cmd, struct tap_run_result *res)
{
        pr_run(opts, cmd, res);
        if (tap_exit_code(res->status) != 0)
                FAIL("exit %d\nstdout:\n%s\nstderr:\n%s", tap_exit_code(res->status), res->out,
                     res->err);
}

/* A TCP listener on the host at addr (port chosen by the kernel). */
static int host_listener(const char *addr, int *port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, addr, &a.sin_addr);
        socklen_t len = sizeof(a);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, 16) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0)
                FAIL("listen on %s: %s", addr, strerror(errno));
        *port = ntohs(a.sin_port);
        return fd;
}

/* The host's first non-loopback IPv4 address, or NULL. */
static char *host_address(void)
{
        struct ifaddrs *ifa = NULL;
        char *r = NULL;
        if (getifaddrs(&ifa) < 0)
                return NULL;
        for (struct ifaddrs *i = ifa; i && !r; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                        continue;
                char a[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof(a));
                if (strncmp(a, "127.", 4) != 0)
                        r = strdup(a);
        }
        freeifaddrs(ifa);
        return r;
}

/* The host's interfaces, as the probe lists them (from /proc/net/dev). */
static char *host_ifaces(void)
{
        char *text = tap_read_file("/proc/net/dev");
        CHECK(text != NULL);
        char *out = calloc(1, strlen(text) + 1);
        size_t n = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                line += strspn(line, " ");
                n += (size_t)sprintf(out + n, "%s%s", n ? "," : "", line);
        }
        return out;
}

static char *key(const char *addr, const char *port)
{
        char *k = NULL;
        if (asprintf(&k, "connect_%s_%s", addr, port) < 0)
                abort();
        return k;
}

TEST(only_loopback_up)
{
        struct tap_run_result res;
        run_ok(NULL, V("net"), &res);
        CHECK_STR(pr_need(&res, "ifaces"), "lo");
        CHECK_STR(pr_need(&res, "lo_up"), "1");
        CHECK_STR(pr_need(&res, "tcp4"), "OK");
        CHECK_STR(pr_need(&res, "tcp6"), "OK");
}

TEST(outside_unreachable)
{
        int lport, hport = 0;
        int lfd = host_listener("127.0.0.1", &lport);
        char lp[16], hp[16];
        snprintf(lp, sizeof(lp), "%d", lport);
        char *haddr = host_address();
        int hfd = haddr ? host_listener(haddr, &hport) : -1;
        snprintf(hp, sizeof(hp), "%d", hport);
        if (!haddr)
                tap_diag("the host has no non-loopback IPv4 address: that part is left out");
        struct tap_run_result res;
        /* 10.255.255.1 is never reached: inside there is no route at all */
        run_ok(NULL,
               haddr ? V("net", "127.0.0.1", lp, "10.255.255.1", "9", haddr, hp)
                     : V("net", "127.0.0.1", lp, "10.255.255.1", "9"),
               &res);
        /* the sandbox's own lo has no listener there */
        CHECK_STR(pr_need(&res, key("127.0.0.1", lp)), "ECONNREFUSED");
        CHECK_STR(pr_need(&res, key("10.255.255.1", "9")), "ENETUNREACH");
        if (haddr)
                CHECK_STR(pr_need(&res, key(haddr, hp)), "ENETUNREACH");

        /* with --share-net the same host listeners answer */
        run_ok(V("--share-net"),
               haddr ? V("net", "127.0.0.1", lp, haddr, hp) : V("net", "127.0.0.1", lp), &res);
        CHECK_STR(pr_need(&res, key("127.0.0.1", lp)), "OK");
        if (haddr)
                CHECK_STR(pr_need(&res, key(haddr, hp)), "OK");
        CHECK_STR(pr_need(&res, "ifaces"), host_ifaces());
        close(lfd);
        if (hfd >= 0)
                close(hfd);
}
