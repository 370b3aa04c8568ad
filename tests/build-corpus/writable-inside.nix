# Group- and world-writable files and directories inside an output that is
# not writable itself: Nix 2.8 accepts them and canonicalisation clears the
# write bits (0444/0555).
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "writable-inside" ''
  mkdir -p $out/d
  echo f > $out/f
  echo g > $out/d/g
  chmod 0666 $out/f
  chmod 0775 $out/d/g
  chmod 0777 $out/d
''
  { }
