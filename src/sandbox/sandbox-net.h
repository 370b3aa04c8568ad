/* The sandbox's network: a fresh namespace whose only interface is lo, up. */
#pragma once

/* Bring lo up. Returns 0 or -errno. Async-signal-safe. */
int sandbox_net_loopback_up(void);
