# Must fail: allowedReferences is empty and the output refers to busybox.
{ busyboxPath }:
let lib = import ./lib.nix { inherit busyboxPath; };
in lib.mk "allowed-refs-fail" ''
  echo "uses ${lib.bb}" > $out
'' { allowedReferences = [ ]; }
