# An output that is group-writable: Nix 2.8 rejects it ("suspicious
# ownership or permission"), someone else could have changed it.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "writable-output" ''
  echo hi > $out
  chmod 0664 $out
''
  { }
