# Shared by the build corpus: the static busybox (already in the store, its
# path passed in with --argstr busyboxPath) and a derivation whose builder is
# `busybox sh -e -c SCRIPT`. Nothing from nixpkgs; PATH stays /path-not-set
# (busybox runs its applets itself).
{ busyboxPath }:
rec {
  busybox = builtins.storePath busyboxPath;
  bb = "${busybox}/bin/busybox";
  mk = name: script: attrs:
    builtins.derivation ({
      inherit name;
      system = "x86_64-linux";
      builder = bb;
      args = [ "sh" "-e" "-c" script ];
    } // attrs);
}
