#!/bin/sh
# Runs inside the sandbox (see run-example.sh): shows what the command sees.
echo "== who: $(id)"
echo "== host name: $(hostname), domain name: $(cat /proc/sys/kernel/domainname)"
echo "== environment:"; env | sort
echo "== root directory:"; ls -l /
echo "== /dev:"; ls -l /dev
echo "== processes:"; ps -o pid,comm 2>/dev/null || ls /proc | grep '^[0-9]'
echo "== network:"; ip -brief address 2>/dev/null || cat /proc/net/dev
echo "== privileges:"; grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' /proc/self/status
echo "== open files:"; ls -l /proc/self/fd
echo "== mounts:"; cat /proc/self/mounts
