# Fixed-output, flat, sha256 given as an SRI hash (no outputHashAlgo): the
# content comes from a string, so no network is needed.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "fod-flat-sha256" ''
  printf 'fixed output, flat\n' > $out
'' {
  outputHashMode = "flat";
  outputHash = "sha256-dHqxzS25OXCcahAKiACYgVGeBBqHVEtqvDYXVcVc5WQ=";
}
