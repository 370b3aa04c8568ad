# Structured attributes: no derivation variables in the environment, the
# attributes in .attrs.json and .attrs.sh (copied into the output byte for
# byte, so their formatting is compared too), per-output outputChecks that
# hold. The output path is found in .attrs.json (busybox sh has no `declare`).
# Only the file names of NIX_ATTRS_*_FILE are recorded: Nix 2.8 sets them to
# the host's build directory (/tmp/nix-build-...) even in the sandbox, where
# later Nix and cloister say /build.
{ busyboxPath }:
let lib = import ./lib.nix { inherit busyboxPath; };
in lib.mk "structured" ''
  out=$(sed -n 's/.*"out":"\([^"]*\)".*/\1/p' .attrs.json)
  mkdir $out
  cp .attrs.json $out/attrs.json
  cp .attrs.sh $out/attrs.sh
  echo "NIX_ATTRS_JSON_FILE=.../''${NIX_ATTRS_JSON_FILE##*/}" > $out/vars
  echo "NIX_ATTRS_SH_FILE=.../''${NIX_ATTRS_SH_FILE##*/}" >> $out/vars
  env | grep -v '^NIX_ATTRS_' | sort > $out/env
  echo "name=''${name-unset} count=''${count-unset}" >> $out/vars
  echo "uses ${lib.bb}" > $out/uses
'' {
  __structuredAttrs = true;
  count = 42;
  ratio = 2.0;
  flag = true;
  off = false;
  nothing = null;
  list = [ "a" "b c" 3 ];
  nested = { x = "it's"; y = 1; };
  deep = { z = [ { w = 1; } ]; };
  "not-an-identifier" = "skipped in .attrs.sh";
  outputChecks.out = {
    allowedReferences = [ lib.busybox "out" ];
    maxSize = 100000;
  };
}
