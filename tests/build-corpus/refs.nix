# An output that refers to its inputs (busybox by a symlink and a text
# mention, an input source by its path inside a file) and to itself, and
# mentions a store path that is not an input (no reference).
{ busyboxPath }:
let lib = import ./lib.nix { inherit busyboxPath; };
    src = builtins.toFile "refs-src.txt" "an input source\n";
in lib.mk "refs" ''
  mkdir $out
  ln -s ${lib.bb} $out/sh
  echo "src is ${src}" > $out/mention
  echo "self is $out" > $out/self
  echo "/nix/store/00000000000000000000000000000000-not-an-input" > $out/stranger
'' { }
