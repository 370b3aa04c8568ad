# Must fail: allowedRequisites holds A but not what A refers to (busybox),
# which the output reaches through A.
{ busyboxPath }:
let
  lib = import ./lib.nix { inherit busyboxPath; };
  a = lib.mk "areq-a" ''
    echo "uses ${lib.bb}" > $out
  '' { };
in lib.mk "allowed-requisites-fail" ''
  echo "refers to ${a}" > $out
'' { allowedRequisites = [ a ]; }
