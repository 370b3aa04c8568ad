# allowedReferences given by output name: 'out' may refer to the output
# 'dev' (and 'dev' to nothing); both hold.
{ busyboxPath }:
let lib = import ./lib.nix { inherit busyboxPath; };
in lib.mk "allowed-refs-output-name" ''
  mkdir -p $dev/include $out
  echo '#define NAMED 1' > $dev/include/named.h
  echo "headers in $dev" > $out/where
'' { outputs = [ "out" "dev" ]; allowedReferences = [ "dev" ]; }
