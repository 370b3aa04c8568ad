# Fixed-output, recursive, sha256: a directory with an executable and a
# symlink.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "fod-recursive-sha256" ''
  mkdir -p $out/bin
  printf 'fixed output, recursive\n' > $out/data
  printf '#!/bin/sh\necho fixed\n' > $out/bin/run
  chmod +x $out/bin/run
  ln -s data $out/link
'' {
  outputHashMode = "recursive";
  outputHashAlgo = "sha256";
  outputHash = "0qh9rk4bbmvpdpn66vwm7qbm7x008yksnwbd9apgkdjmaqazbf6x";
}
