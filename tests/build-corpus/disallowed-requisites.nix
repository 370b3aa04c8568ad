# Must fail: the output refers to A, and A refers to busybox, which is a
# disallowed requisite (reached through A, not directly).
{ busyboxPath }:
let
  lib = import ./lib.nix { inherit busyboxPath; };
  a = lib.mk "req-a" ''
    echo "uses ${lib.bb}" > $out
  '' { };
in lib.mk "disallowed-requisites" ''
  echo "refers to ${a}" > $out
'' { disallowedRequisites = [ lib.busybox ]; }
