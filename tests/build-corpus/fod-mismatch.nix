# Must fail: the declared hash is that of other content ('fixed output,
# flat'), so the build reports both hashes.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "fod-mismatch" ''
  printf 'not what was declared\n' > $out
'' {
  outputHashMode = "flat";
  outputHashAlgo = "sha256";
  outputHash = "0r75bk2ma5rnpim4nm473829wlc1k008h2hhdaf70fdr5p6v2ykl";
}
