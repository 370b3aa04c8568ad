#!/usr/bin/env bash
# diff-build: builds every derivation of tests/build-corpus with Nix 2.8
# (nix-instantiate + nix-store --realise, as nix-build does, sandbox = true,
# in a throwaway store root) and with `cloister build` (in another throwaway
# store root given the same inputs by cloister store add/import and drv add),
# and checks that the two agree: .drv and output paths, each output's
# registration (NAR hash, NAR size, deriver, CA, references, row for row in
# the two databases), which derivations fail and what each failure names,
# nothing left behind by a failure, what the builder sees from inside
# (env-dump.nix) apart from the differences that are there by design (listed
# at ENV_DUMP_EXCEPTIONS below), and that Nix verifies cloister's store. TAP
# output; root only (Nix's sandbox needs it). Installed as t-diff-build.
#   diff-build.sh [--nix-only] [NAME-FILTER]
# --nix-only builds the corpus with Nix alone and checks that Nix does what
# the corpus expects (for working on the corpus). CLOISTER_DIFF_KEEP=1 keeps
# the two stores.
set -uo pipefail
export LC_ALL=C

src=${CLOISTER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cloister=${CLOISTER:-$src/build/src/cloister}
corpus=$src/tests/build-corpus
nix_only=
[ "${1:-}" = --nix-only ] && { nix_only=1; shift; }
filter=${1:-}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
skip_all() {
        if [ -n "${CLOISTER_TEST_MUST_WORK:-}" ]; then
                echo "1..1"
                echo "not ok 1 - $* (CLOISTER_TEST_MUST_WORK is set)"
                exit 1
        fi
        echo "1..0 # SKIP $*"
        exit 0
}
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds, else its output as
# diagnostics
check() {
        local what=$1 out
        shift
        if out=$("$@" 2>&1); then
                ok "$what"
        else
                not_ok "$what"
                printf '%s\n' "$out" | head -40 | diag
        fi
}
# same DESCRIPTION EXPECTED ACTUAL
same() {
        if [ "$2" = "$3" ]; then
                ok "$1"
        else
                not_ok "$1"
                diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -40 | diag
        fi
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (Nix's sandbox)"
[ -r /proc/self/uid_map ] && [ "$(awk '{print $3}' /proc/self/uid_map)" = 4294967295 ] ||
        skip_all "needs real root, not root in a user namespace"
for c in nix-instantiate nix-store nix-hash nix; do
        command -v $c >/dev/null || skip_all "'$c' not found (scripts/install-deps --test installs nix-bin)"
done
command -v sqlite3 >/dev/null || skip_all "'sqlite3' not found (scripts/install-deps --test installs it)"
[ -x /bin/busybox ] || skip_all "/bin/busybox not found (busybox-static)"
[ -n "$nix_only" ] || [ -x "$cloister" ] || { echo "1..1"; echo "not ok 1 - no cloister binary at '$cloister'"; exit 1; }

# Confinement first: every builder this test starts (Nix's and cloister's)
# descends from this shell, so the shell moves itself into a pids-limited
# cgroup that it creates (v1 pids hierarchy or a v2 leaf) and checks that it
# is in it before anything runs. A builder gone wrong (a fork bomb, a loop)
# then hits pids.max instead of the host; each build also has a time limit.
cg=
cg_parent=
for d in /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
        if [ -e "$d/cgroup.procs" ] && { [ "$d" = /sys/fs/cgroup/pids ] || [ -e "$d/cgroup.controllers" ]; }; then
                if [ "$d" != /sys/fs/cgroup/pids ] && ! grep -qw pids "$d/cgroup.controllers"; then
                        continue
                fi
                cg_parent=$d
                break
        fi
done
[ -n "$cg_parent" ] || { echo "1..1"; echo "not ok 1 - no pids cgroup controller to confine the builders"; exit 1; }
# where this shell was, to go back there at the end
if [ "$cg_parent" = /sys/fs/cgroup/pids ]; then
        cg_orig=$cg_parent$(awk -F: '$2 == "pids" {print $3}' /proc/self/cgroup)
else
        cg_orig=$cg_parent$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
fi
cg=$cg_parent/cloister-diff-build.$$
if [ "$cg_parent" != /sys/fs/cgroup/pids ]; then
        # v2: the parent must hand the pids controller down to its children
        grep -qw pids "$cg_parent/cgroup.subtree_control" ||
                echo +pids > "$cg_parent/cgroup.subtree_control" 2>/dev/null
fi
if ! mkdir "$cg" || ! echo 1024 > "$cg/pids.max" || ! echo $$ > "$cg/cgroup.procs" ||
        ! grep -q "cloister-diff-build.$$\$" /proc/self/cgroup; then
        rmdir "$cg" 2>/dev/null
        echo "1..1"
        echo "not ok 1 - could not confine the test in pids cgroup '$cg'"
        exit 1
fi
# seconds a single build (Nix's or cloister's) may take
build_timeout=120

tmp=$(mktemp -d /tmp/cloister-diff-build.XXXXXX) || exit 1
# Both stores live in here. 0755, not mktemp's 0700: a store root below a
# directory that the build user cannot search is a case of its own, checked
# once at the end (cloister-private-root), so that it does not hide the rest.
chmod 755 "$tmp"
cleanup() {
        # leave the cgroup: kill what is left in it (only this test's
        # processes are), then remove it
        echo $$ > "$cg_orig/cgroup.procs" 2>/dev/null || echo $$ > "$cg_parent/cgroup.procs" 2>/dev/null
        local p i
        for i in 1 2 3 4 5; do
                for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
                rmdir "$cg" 2>/dev/null && break
                sleep 0.2
        done
        [ -n "${CLOISTER_DIFF_KEEP:-}" ] && { echo "# kept $tmp"; return; }
        # Nix makes its store read-only; give write access back before removing
        chmod -R u+w "$tmp" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

# Nix: its own configuration only (not the host's /etc/nix/nix.conf, which
# turns the sandbox off on Debian), no substituters, a throwaway store root
# (a chroot store: logical /nix/store, physical $nixroot/nix/store), one core
# so that NIX_BUILD_CORES is fixed.
nixroot=$tmp/nix-private/root
mkdir -m 0700 "$tmp/nix-private"
clroot=$tmp/cloister
mkdir -p "$tmp/nix-conf" "$tmp/home" "$nixroot" "$clroot"
cat > "$tmp/nix-conf/nix.conf" <<CONF
sandbox = true
sandbox-fallback = false
substituters =
build-users-group = nixbld
cores = 1
max-jobs = 1
experimental-features = nix-command
CONF
export NIX_CONF_DIR=$tmp/nix-conf NIX_USER_CONF_FILES= HOME=$tmp/home XDG_CACHE_HOME=$tmp/home/cache
nixs=(--store "$nixroot")
cl_store=(--store "$clroot")
cl_build_opts=(--cores 1)

# The builder: a static busybox, added as a directory so that its argv[0]
# is 'busybox' (as a flat file it would be the store name).
mkdir -p "$tmp/in/busybox/bin"
cp /bin/busybox "$tmp/in/busybox/bin/busybox"
bb=$(nix-store "${nixs[@]}" --add "$tmp/in/busybox") || { echo "1..0 # nix-store --add failed"; exit 1; }
if [ -n "$nix_only" ]; then
        :
elif out=$("$cloister" store add "${cl_store[@]}" "$tmp/in/busybox" 2>&1); then
        same "busybox: cloister store add gives Nix's path" "$bb" "$out"
else
        not_ok "busybox: cloister store add"
        printf '%s\n' "$out" | diag
fi

# path of a logical store path under a root
phys() { printf '%s%s' "$1" "$2"; }

# The store databases (both in Nix's schema) are read with sqlite3, each
# into three arrays at once: Nix's after its builds, cloister's after its
# builds. A Nix command costs half a second; this keeps the test fast.
# Store paths hold no quotes or spaces.
nixdb=$nixroot/nix/var/nix/db/db.sqlite
cldb=$clroot/nix/var/nix/db/db.sqlite
sql() { sqlite3 -readonly -separator ' ' "$1" "$2"; }
# load_db DB WHO: fills WHO_info (path -> 'hash narSize deriver ca'),
# WHO_refs (path -> its references) and WHO_outs (.drv -> its output
# paths), lists sorted and space-separated
declare -A nix_info=() nix_refs=() nix_outs=() cl_info=() cl_refs=() cl_outs=()
load_db() {
        local -n info=$2_info refs=$2_refs outs=$2_outs
        local a b
        info=() refs=() outs=()
        while read -r a b; do info[$a]=$b; done < <(sql "$1" "select path, hash, narSize,
                ifnull(deriver, '-'), ifnull(ca, '-') from ValidPaths")
        while read -r a b; do refs[$a]+="${refs[$a]:+ }$b"; done < <(sql "$1" "select v.path,
                r.path from Refs f join ValidPaths v on f.referrer = v.id join ValidPaths r on
                f.reference = r.id order by v.path, r.path")
        while read -r a b; do outs[$a]+="${outs[$a]:+ }$b"; done < <(sql "$1" "select v.path,
                o.path from DerivationOutputs o join ValidPaths v on o.drv = v.id
                order by v.path, o.path")
}
# lines WORDS: one word a line
lines() { [ -z "$*" ] || printf '%s\n' $*; }

# Nix 2.8 with a store root (--store DIR) leaves what a failed builder wrote
# at the host's /nix/store/OUTPUT (seen with builder-fails.nix), not under
# DIR. nix_debris DRV removes that, for DRV's outputs, when the host's store
# does not have it as a valid path: it is this test's own leftover.
nix_debris() {
        local p
        for p in ${nix_outs[$1]:-}; do
                [ -e "$p" ] || [ -L "$p" ] || continue
                if [ -e /nix/var/nix/db/db.sqlite ] &&
                        [ "$(sql /nix/var/nix/db/db.sqlite "select count(*) from ValidPaths
                                where path = '$p'")" != 0 ]; then
                        continue
                fi
                chmod -R u+w "$p" 2>/dev/null
                rm -rf "$p"
        done
}

# The derivations in DRV's closure (DRV included), from Nix's database
closure_drvs() {
        local d
        echo "$1"
        for d in ${nix_refs[$1]:-}; do
                case "$d" in *.drv) closure_drvs "$d" ;; esac
        done
}

# the hash that fod-mismatch.nix's output has, base-32 or SRI
printf 'not what was declared\n' > "$tmp/mismatch"
got32=$(nix-hash --flat --type sha256 --base32 "$tmp/mismatch")
mismatch_got="$got32|$(nix hash to-sri --type sha256 "$got32" | sed 's/[+]/[+]/g')"

# What a failing derivation's error must say: extended regexps, one a line,
# each of which must match the build's output (the offending path, the
# missing output, both hashes). A derivation not listed must build.
expected_failure() {
        case "$1" in
        disallowed-requisites | allowed-refs-fail | structured-fail | allowed-requisites-fail)
                echo "${bb#/nix/store/}" ;;
        fod-mismatch)
                # specified: the hash of 'fixed output, flat\n'; got: this one
                echo "0r75bk2ma5rnpim4nm473829wlc1k008h2hhdaf70fdr5p6v2ykl|sha256-dHqxzS25OXCcahAKiACYgVGeBBqHVEtqvDYXVcVc5WQ="
                echo "$mismatch_got"
                ;;
        no-output) echo "'dev'|-no-output-dev" ;;
        writable-output) echo "suspicious ownership or permission on '[^']*-writable-output'" ;;
        builder-fails) echo "\\b3\\b" ;;
        esac
}

# matches OUTPUT-FILE PATTERNS: every pattern line matches somewhere
matches() {
        local pat
        while IFS= read -r pat; do
                [ -z "$pat" ] && continue
                grep -Eq -- "$pat" "$1" || { echo "no match for /$pat/"; return 1; }
        done <<< "$2"
}

# The differences between Nix 2.8's sandbox and cloister's that are there
# by design, in what env-dump.nix records (ENV_DUMP_EXCEPTIONS):
#   shell-pid, pids  Nix runs the builder as PID 1; cloister's own init is
#                    PID 1 and the builder is its child, so the builder's
#                    PID and the list of PIDs differ.
#   mounts           Nix bind-mounts the host's file system into a chroot
#                    directory, so devices, types and options name the host
#                    (e.g. '/dev/vda ... ext4'), and /dev is a bind of single
#                    device nodes; cloister's root is a tmpfs of its own.
#                    Compared instead: the mount points below /nix/store
#                    (exactly the input closure, the same on both sides) and
#                    that /proc, /dev/pts, /dev/shm and /build are mounts.
#   status CapBnd    Nix 2.8 leaves the builder the full capability bounding
#                    set of its user namespace (000001ffffffffff); cloister
#                    empties it (DESIGN.md: no capabilities left), so
#                    cloister's must be 0. The other lines of status (ids,
#                    groups, effective/permitted/inheritable/ambient
#                    capabilities, NoNewPrivs, Seccomp mode) must be equal.
# Everything else (environment, id, host and domain name, the root, store
# and /etc listings, /etc files, /dev listing, network interfaces and
# addresses, limits, umask, cwd) must be equal.
env_dump_exceptions=" shell-pid pids mounts status "
compare_env_dump() {
        local nixout=$1 clout=$2 f name
        for f in "$nixout"/*; do
                name=${f##*/}
                case "$env_dump_exceptions" in *" $name "*) continue ;; esac
                if [ -e "$clout/$name" ]; then
                        same "env-dump: $name as in Nix's sandbox" "$(cat "$f")" "$(cat "$clout/$name")"
                else
                        not_ok "env-dump: cloister's output has no '$name'"
                fi
        done
        same "env-dump: status as in Nix's sandbox (but CapBnd)" \
                "$(grep -v '^CapBnd:' "$nixout/status")" "$(grep -v '^CapBnd:' "$clout/status")"
        same "env-dump: the capability bounding set is empty in cloister's sandbox" \
                "CapBnd:	0000000000000000" "$(grep '^CapBnd:' "$clout/status")"
        local nm cm
        nm=$(awk '$2 ~ "^/nix/store/" {print $2}' "$nixout/mounts" | sort)
        cm=$(awk '$2 ~ "^/nix/store/" {print $2}' "$clout/mounts" | sort)
        same "env-dump: store mounts are the input closure, as in Nix" "$nm" "$cm"
        for m in /proc /dev/pts /dev/shm /build; do
                if awk -v m=$m '$2 == m {f = 1} END {exit !f}' "$clout/mounts"; then
                        ok "env-dump: $m is a mount point"
                else
                        not_ok "env-dump: $m is not a mount point in cloister's sandbox"
                        diag < "$clout/mounts"
                fi
        done
}

# Compares one output path as the two databases record it: NAR hash, NAR
# size, deriver, content address, references. That the files match the
# recorded NAR hash is Nix's `--verify --check-contents` at the end.
compare_output() {
        local case=$1 p=$2 ni ci
        if [ ! -e "$(phys "$clroot" "$p")" ] && [ ! -L "$(phys "$clroot" "$p")" ]; then
                not_ok "$case: cloister produced '$p'"
                return
        fi
        ni=${nix_info[$p]:-}
        ci=${cl_info[$p]:-not registered}
        if [ "$case" != env-dump ]; then
                same "$case: NAR hash, size, deriver and CA of ${p#/nix/store/} as Nix registers them" \
                        "$ni" "$ci"
                if [ "${ni%% *}" != "${ci%% *}" ]; then
                        diff -r --no-dereference "$(phys "$nixroot" "$p")" "$(phys "$clroot" "$p")" 2>&1 |
                                head -20 | diag
                fi
                all_outputs+=("$p")
        else
                # its contents differ by design (ENV_DUMP_EXCEPTIONS)
                same "$case: deriver and CA of ${p#/nix/store/} as Nix registers them" \
                        "$(cut -d' ' -f3- <<< "$ni")" "$(cut -d' ' -f3- <<< "$ci")"
        fi
        same "$case: references of ${p#/nix/store/}" "$(lines ${nix_refs[$p]:-})" \
                "$(lines ${cl_refs[$p]:-})"
        # canonicalisation: type, owner:group (root:root after a build as
        # root: Nix lchowns to its euid and egid), mode and mtime of every
        # file, symlinks included
        same "$case: owner, group, mode and mtime of every file in ${p#/nix/store/} as Nix leaves them" \
                "$(meta_list "$(phys "$nixroot" "$p")")" "$(meta_list "$(phys "$clroot" "$p")")"
}
# meta_list PATH: one line per file below PATH (PATH itself too)
meta_list() {
        find "$1" -printf '%P %y %u:%g %m %T@\n' | sort
}

# sandbox = false: Nix 2.8 builds without its sandbox only in a store whose
# logical directory is its physical one (it sandboxes a store with --store
# ROOT), so both sides use the logical store directory $nsd/nix/store: Nix's
# store is that directory itself (state and logs beside it); then it is moved
# away and cloister's store, under its own root, is reached through a
# symlink there. The cases are the corpus derivations whose outputs do not
# depend on what the builder sees around it: not env-dump, pass-as-file
# (names its build directory) or structured (records its environment), and
# not the failing ones. Their output NAR hashes must be Nix's.
ns_cases="trivial tree multi-output dependent refs assembled fod-flat-sha256 fod-recursive-sha256"
if [ -z "$nix_only" ] && { [ -z "$filter" ] || [[ nosandbox == *"$filter"* ]]; }; then
        nsd=$tmp/ns
        ns_dir=$nsd/nix/store
        ns_nix="local?store=$ns_dir&state=$nsd/nix/var/nix&log=$nsd/nix/var/log/nix"
        ns_files=()
        for c in $ns_cases; do ns_files+=("$corpus/$c.nix"); done
        mkdir -p "$ns_dir"
        ns_ok=
        if ns_bb=$(nix-store --store "$ns_nix" --add "$tmp/in/busybox" 2> "$tmp/ns.err") &&
                ns_drvs=$(nix-instantiate --store "$ns_nix" "${ns_files[@]}" --argstr busyboxPath "$ns_bb" 2> "$tmp/ns.err") &&
                timeout $((build_timeout * 3)) nix-store --store "$ns_nix" --option sandbox false \
                        --realise $ns_drvs > /dev/null 2> "$tmp/ns.err" &&
                ns_outs=$(nix-store --store "$ns_nix" -q --outputs $ns_drvs | sort) &&
                ns_hashes=$(nix-store --store "$ns_nix" -q --hash $ns_outs) &&
                ns_all=$(nix-store --store "$ns_nix" -q --requisites $ns_drvs) &&
                nix --store "$ns_nix" show-derivation $(grep '\.drv$' <<< "$ns_all") > "$tmp/ns-drvs.json" &&
                ns_srcs=$(grep -v '\.drv$' <<< "$ns_all" | grep -vxF "$ns_bb" | sort) &&
                nix-store --store "$ns_nix" --export $ns_srcs > "$tmp/ns-srcs.nar" 2> "$tmp/ns.err"; then
                ns_ok=1
        else
                not_ok "nosandbox: Nix builds the cases with sandbox = false"
                tail -20 "$tmp/ns.err" | diag
        fi
        if [ -n "$ns_ok" ]; then
                chmod -R u+w "$nsd"
                mv "$nsd" "$tmp/ns-nix"
                ns_root=$tmp/ns-cl
                mkdir -p "$ns_root$ns_dir" "$nsd/nix"
                ln -s "$ns_root$ns_dir" "$ns_dir"
                ns_cl=(--store "$ns_root" --store-dir "$ns_dir")
                same "nosandbox: cloister store add gives Nix's busybox path" "$ns_bb" \
                        "$("$cloister" store add "${ns_cl[@]}" "$tmp/in/busybox" 2>&1)"
                same "nosandbox: cloister store import of Nix's sources gives Nix's paths" "$ns_srcs" \
                        "$("$cloister" store import "${ns_cl[@]}" < "$tmp/ns-srcs.nar" 2>&1 | sort)"
                same "nosandbox: cloister drv add gives Nix's .drv paths" \
                        "$(grep '\.drv$' <<< "$ns_all" | sort)" \
                        "$("$cloister" drv add "${ns_cl[@]}" "$tmp/ns-drvs.json" 2>&1 | sort)"
                if timeout $((build_timeout * 3)) "$cloister" build "${ns_cl[@]}" "${cl_build_opts[@]}" \
                        --option sandbox false $ns_drvs > "$tmp/ns-cl.out" 2> "$tmp/ns-cl.err"; then
                        ok "nosandbox: cloister build --option sandbox false builds the cases"
                        same "nosandbox: cloister prints the output paths" "$ns_outs" "$(sort "$tmp/ns-cl.out")"
                        same "nosandbox: output NAR hashes as Nix's with sandbox = false" "$ns_hashes" \
                                "$("$cloister" store query "${ns_cl[@]}" --hash $ns_outs 2>&1)"
                        same "nosandbox: the store directory is 1735 root:nixbld after the builds" \
                                "1735 root nixbld" "$(stat -c '%a %U %G' "$ns_root$ns_dir")"
                else
                        not_ok "nosandbox: cloister build --option sandbox false builds the cases"
                        tail -25 "$tmp/ns-cl.err" | diag
                fi
        fi
fi

start=$SECONDS
# The cases and their derivations, instantiated in one go
cases=()
files=()
for file in "$corpus"/*.nix; do
        case=${file##*/}
        case=${case%.nix}
        [ "$case" = lib ] && continue
        [ -n "$filter" ] && [[ "$case" != *"$filter"* ]] && continue
        cases+=("$case")
        files+=("$file")
done
if [ ${#cases[@]} -eq 0 ]; then
        echo "# no case matches '$filter'"
        echo "1..$n"
        [ $failed -eq 0 ]
        exit
fi
declare -A drv_of=()
if drvs=$(nix-instantiate "${nixs[@]}" "${files[@]}" --argstr busyboxPath "$bb" 2> "$tmp/err") &&
        [ "$(wc -l <<< "$drvs")" -eq ${#cases[@]} ]; then
        i=0
        for d in $drvs; do drv_of[${cases[$i]}]=$d; i=$((i + 1)); done
else
        # one at a time, to name the case that does not instantiate
        for i in "${!cases[@]}"; do
                if d=$(nix-instantiate "${nixs[@]}" "${files[$i]}" --argstr busyboxPath "$bb" 2> "$tmp/err"); then
                        drv_of[${cases[$i]}]=$d
                else
                        not_ok "${cases[$i]}: nix-instantiate"
                        diag < "$tmp/err"
                fi
        done
fi

# Nix's reference builds, which must do what the corpus says: the ones that
# must succeed in one nix-store call, the failing ones one by one (for their
# messages).
ok_drvs=()
for case in "${cases[@]}"; do
        [ -n "${drv_of[$case]:-}" ] && [ -z "$(expected_failure "$case")" ] && ok_drvs+=("${drv_of[$case]}")
done
if [ ${#ok_drvs[@]} -gt 0 ]; then
        timeout $((build_timeout * 3)) nix-store "${nixs[@]}" --realise --keep-going "${ok_drvs[@]}" \
                > /dev/null 2> "$tmp/nix-ok.err"
fi
load_db "$nixdb" nix
declare -A nix_fine=()
for case in "${cases[@]}"; do
        drv=${drv_of[$case]:-}
        [ -n "$drv" ] || continue
        want=$(expected_failure "$case")
        if [ -z "$want" ]; then
                missing=
                for p in ${nix_outs[$drv]:-}; do [ -n "${nix_info[$p]:-}" ] || missing+=" $p"; done
                if [ -n "$missing" ] || [ -z "${nix_outs[$drv]:-}" ]; then
                        not_ok "$case: Nix builds it (the corpus is wrong)"
                        grep -F -A12 "${drv#/nix/store/}" "$tmp/nix-ok.err" | tail -20 | diag
                        continue
                fi
        else
                timeout $build_timeout nix-store "${nixs[@]}" --realise "$drv" > /dev/null 2> "$tmp/nix-$case.err"
                nix_rc=$?
                nix_debris "$drv"
                if [ $nix_rc -eq 0 ]; then
                        not_ok "$case: Nix refuses it (the corpus is wrong)"
                        continue
                elif ! m=$(matches "$tmp/nix-$case.err" "$want"); then
                        not_ok "$case: Nix's error says what the test expects ($m)"
                        tail -20 "$tmp/nix-$case.err" | diag
                        continue
                fi
        fi
        nix_fine[$case]=1
        if [ -n "$nix_only" ]; then
                if [ -n "$want" ]; then ok "$case: Nix refuses it, as the corpus expects"
                else ok "$case: Nix builds it, as the corpus expects"; fi
        fi
done

echo "# Nix: instantiated and built in $((SECONDS - start)) s"
t_cl=$SECONDS

# The same inputs in cloister's store: the input sources through `nix-store
# --export | cloister store import` (some are text paths, from
# builtins.toFile, which `store add` does not make), the .drv files through
# `cloister drv add` of `nix show-derivation` JSON (one document: drv add
# orders it), each of which must come out at Nix's path. busybox is there
# already, by `cloister store add`.
if [ -z "$nix_only" ]; then
        all_drvs=$(for case in "${!nix_fine[@]}"; do closure_drvs "${drv_of[$case]}"; done | sort -u)
        srcs=$(for d in $all_drvs; do lines ${nix_refs[$d]:-}; done | grep -v '\.drv$' |
                grep -vxF "$bb" | sort -u)
        if [ -n "$srcs" ]; then
                same "input sources: cloister store import of Nix's export gives Nix's paths" "$srcs" \
                        "$(nix-store "${nixs[@]}" --export $srcs |
                                "$cloister" store import "${cl_store[@]}" 2>&1 | sort)"
        fi
        if [ -n "$all_drvs" ]; then
                nix "${nixs[@]}" show-derivation $all_drvs > "$tmp/drvs.json"
                same "derivations: cloister drv add of Nix's JSON gives Nix's .drv paths" "$all_drvs" \
                        "$("$cloister" drv add "${cl_store[@]}" "$tmp/drvs.json" 2>&1 | sort)"
        fi
fi

# cloister's builds
built=()
tried=()
declare -A logs_done=()
for case in "${cases[@]}"; do
        [ -z "$nix_only" ] && [ -n "${nix_fine[$case]:-}" ] || continue
        drv=${drv_of[$case]}
        want=$(expected_failure "$case")

        timeout $build_timeout "$cloister" build "${cl_store[@]}" "${cl_build_opts[@]}" "$drv" \
                > "$tmp/cl.out" 2> "$tmp/cl.err"
        cl_rc=$?
        tried+=("$case")
        if [ -n "$want" ]; then
                if [ $cl_rc -eq 0 ]; then
                        not_ok "$case: cloister build fails as Nix does"
                        tail -20 "$tmp/cl.err" | diag
                        continue
                fi
                ok "$case: cloister build fails as Nix does (exit $cl_rc)"
                if m=$(matches "$tmp/cl.err" "$want"); then
                        ok "$case: cloister's error names what Nix's names"
                else
                        not_ok "$case: cloister's error names what Nix's names ($m)"
                        echo "Nix said:" | diag
                        grep -v '^building' "$tmp/nix-$case.err" | tail -8 | diag
                        echo "cloister said:" | diag
                        tail -8 "$tmp/cl.err" | diag
                fi
                # nothing of the failed derivation is left in the store
                left=
                for p in ${nix_outs[$drv]}; do
                        [ -e "$(phys "$clroot" "$p")" ] || [ -L "$(phys "$clroot" "$p")" ] && left+=" $p"
                done
                same "$case: no output of the failed build is left in the store" "" "$left"
                continue
        fi
        if [ $cl_rc -ne 0 ]; then
                not_ok "$case: cloister build succeeds (exit $cl_rc)"
                tail -25 "$tmp/cl.err" | diag
                continue
        fi
        ok "$case: cloister build succeeds"
        same "$case: cloister build prints the output paths" \
                "$(lines ${nix_outs[$drv]})" "$(sort "$tmp/cl.out")"
        built+=("$case")
done

# What cloister built and registered, compared
all_outputs=()
if [ ${#built[@]} -gt 0 ]; then
        load_db "$cldb" cl
        for case in "${built[@]}"; do
                drv=${drv_of[$case]}
                for d in $(closure_drvs "$drv" | sort -u); do
                        for p in ${nix_outs[$d]}; do compare_output "$case" "$p"; done
                done
                if [ "$case" = env-dump ]; then
                        p=${nix_outs[$drv]}
                        compare_env_dump "$(phys "$nixroot" "$p")" "$(phys "$clroot" "$p")"
                fi
        done
fi
# The stored build logs: the builder's bytes, bzip2-compressed at Nix's path
# (nix/var/log/nix/drvs/XX/REST.bz2), for every derivation both tried, and
# `cloister log` prints them
for case in "${tried[@]}"; do
        for d in $(closure_drvs "${drv_of[$case]}" | sort -u); do
                [ -n "${logs_done[$d]:-}" ] && continue
                logs_done[$d]=1
                rel=nix/var/log/nix/drvs/${d:11:2}/${d:13}.bz2
                [ -e "$nixroot/$rel" ] || continue
                nl=$(bzcat "$nixroot/$rel")
                if [ ! -e "$clroot/$rel" ]; then
                        not_ok "$case: cloister stored the log of ${d#/nix/store/} at Nix's path"
                        continue
                fi
                same "$case: the stored log of ${d#/nix/store/} is Nix's" "$nl" "$(bzcat "$clroot/$rel" 2>&1)"
                same "$case: cloister log ${d#/nix/store/}" "$nl" \
                        "$("$cloister" log "${cl_store[@]}" "$d" 2>&1)"
        done
done
[ -n "$nix_only" ] || echo "# cloister: copied, built and compared in $((SECONDS - t_cl)) s"
if [ ${#all_outputs[@]} -gt 0 ]; then
        # cloister's query CLI against Nix's, once for all outputs
        same "cloister store query --hash gives what nix-store -q --hash gives, for every output" \
                "$(nix-store "${nixs[@]}" -q --hash "${all_outputs[@]}")" \
                "$("$cloister" store query "${cl_store[@]}" --hash "${all_outputs[@]}" 2>&1)"
        same "cloister store query --deriver gives what nix-store -q --deriver gives, for every output" \
                "$(nix-store "${nixs[@]}" -q --deriver "${all_outputs[@]}")" \
                "$("$cloister" store query "${cl_store[@]}" --deriver "${all_outputs[@]}" 2>&1)"
fi
# A store root below a directory only root may search (0700, as /root or
# mktemp -d): Nix 2.8 builds there (Nix's store above is in one).
if [ -z "$nix_only" ] && [ -z "$filter" ]; then
        mkdir -m 0700 "$tmp/private"
        proot=$tmp/private/root
        drv=$(nix-instantiate "${nixs[@]}" "$corpus/trivial.nix" --argstr busyboxPath "$bb" 2>/dev/null)
        if "$cloister" store add --store "$proot" "$tmp/in/busybox" > /dev/null 2>&1 &&
                nix "${nixs[@]}" show-derivation "$drv" > "$tmp/private.json" &&
                "$cloister" drv add --store "$proot" "$tmp/private.json" > /dev/null 2>&1; then
                check "cloister-private-root: cloister builds in a store root below a 0700 directory, as Nix does" \
                        timeout $build_timeout "$cloister" build --store "$proot" "${cl_build_opts[@]}" "$drv"
        else
                not_ok "cloister-private-root: inputs copied into the store below a 0700 directory"
        fi
fi

# Nix itself accepts cloister's store: every path registered there, its NAR
# hash and its references, read from cloister's database by Nix 2.8
if [ -z "$nix_only" ] && [ -e "$clroot/nix/var/nix/db/db.sqlite" ]; then
        check "Nix 2.8 verifies cloister's store (nix-store --verify --check-contents)" \
                bash -c 'out=$(nix-store --store "$1" --verify --check-contents 2>&1) &&
                        ! grep -Eq "error|warning|invalid|modified" <<< "$out" || { echo "$out"; false; }' \
                _ "$clroot"
fi
echo "# $((SECONDS - start)) s"
echo "1..$n"
[ $failed -eq 0 ]
