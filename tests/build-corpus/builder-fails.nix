# Must fail: the builder exits with status 3 after writing its output.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "builder-fails" ''
  echo partial > $out
  echo "about to fail" >&2
  exit 3
'' { }
