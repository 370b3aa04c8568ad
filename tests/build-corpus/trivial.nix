# One regular file.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "trivial" ''
  echo "hello from the build corpus" > $out
'' { }
