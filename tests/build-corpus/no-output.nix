# Must fail: the builder succeeds but never creates its output 'dev'.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "no-output" ''
  echo made > $out
'' { outputs = [ "out" "dev" ]; }
