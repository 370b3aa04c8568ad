# Three outputs that refer to each other without a cycle: out -> dev,
# doc -> out and doc -> busybox; dev refers to nothing.
{ busyboxPath }:
let lib = import ./lib.nix { inherit busyboxPath; };
in lib.mk "multi-output" ''
  mkdir -p $dev/include $out/lib $doc
  echo '#define MULTI 1' > $dev/include/multi.h
  echo "headers in $dev" > $out/lib/where
  echo "library in $out, made with ${lib.busybox}" > $doc/index.txt
'' { outputs = [ "out" "dev" "doc" ]; }
