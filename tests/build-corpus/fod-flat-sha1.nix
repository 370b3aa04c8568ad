# Fixed-output, flat, sha1 in nix32.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "fod-flat-sha1" ''
  printf 'flat sha1\n' > $out
'' {
  outputHashMode = "flat";
  outputHashAlgo = "sha1";
  outputHash = "dv7wny6li9wi0532lv1gbwmp4vjjnkcb";
}
