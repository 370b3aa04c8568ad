# allowedReferences that hold: the only reference is busybox.
{ busyboxPath }:
let lib = import ./lib.nix { inherit busyboxPath; };
in lib.mk "allowed-refs-pass" ''
  echo "uses ${lib.bb}" > $out
'' { allowedReferences = [ lib.busybox ]; }
