# B runs a script that A produced and keeps a reference to A; A keeps a
# reference to busybox (its script's interpreter).
{ busyboxPath }:
let
  lib = import ./lib.nix { inherit busyboxPath; };
  a = lib.mk "dep-a" ''
    mkdir -p $out/bin
    printf '#!${lib.bb} sh\necho "greetings from A"\n' > $out/bin/greet
    chmod +x $out/bin/greet
  '' { };
in lib.mk "dep-b" ''
  ${a}/bin/greet > greeting
  mkdir $out
  cp greeting $out/greeting
  ln -s ${a}/bin/greet $out/greet
'' { }
