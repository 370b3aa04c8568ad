# What the builder sees, written into its output so the differential test
# can compare Nix's sandbox with cloister's: the environment, identity,
# host name, the root directory, the store directory, /etc files, mounts,
# network interfaces, limits and the process's own status. The expected
# differences are listed (and filtered) in the test, tests/diff/diff-build.sh.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "env-dump" ''
  mkdir $out
  env | sort > $out/env
  id > $out/id
  hostname > $out/hostname
  cat /proc/sys/kernel/domainname > $out/domainname
  pwd > $out/pwd
  umask > $out/umask
  ls -a / > $out/root
  ls -a /nix/store > $out/store
  ls -a /build > $out/build
  ls -ld /tmp /build | cut -c1-10 > $out/tmp-mode
  cat /etc/passwd > $out/passwd
  cat /etc/group > $out/group
  cat /etc/hosts > $out/hosts 2>&1 || echo "no /etc/hosts" > $out/hosts
  ls -a /etc > $out/etc
  ls -a /dev > $out/dev
  cat /proc/mounts > $out/mounts
  cut -d: -f1 /proc/net/dev | tail -n +3 | sed 's/ //g' | sort > $out/net-dev
  ip -o link 2>&1 | sed 's/^[0-9]*: //; s/:.*//' | sort > $out/ip-link
  ip -o addr 2>&1 | sed 's/^[0-9]*: //' | sed 's/ *valid_lft.*//' | sort > $out/ip-addr
  ulimit -a > $out/ulimit 2>&1
  grep -E '^(Uid|Gid|Groups|NoNewPrivs|Seccomp|CapInh|CapPrm|CapEff|CapBnd|CapAmb):' /proc/self/status > $out/status
  echo "$$" > $out/shell-pid
  ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ' > $out/pids
  echo "args: $0 $#" > $out/args
  tr '\0' '\n' < /proc/$$/cmdline | head -n 1 > $out/argv0
'' { }
