# Must fail: a structured-attributes output check (maxSize) that the output
# breaks, and one (disallowedReferences) naming busybox.
{ busyboxPath }:
let lib = import ./lib.nix { inherit busyboxPath; };
in lib.mk "structured-fail" ''
  out=$(sed -n 's/.*"out":"\([^"]*\)".*/\1/p' .attrs.json)
  echo "uses ${lib.bb}" > $out
'' {
  __structuredAttrs = true;
  outputChecks.out = {
    disallowedReferences = [ lib.busybox ];
  };
}
