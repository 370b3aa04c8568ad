# The bundled example's graph (examples/run-example.sh): hello assembles a
# static x86-64 program from a hand-written hex listing and runs it in the
# sandbox; greeting depends on hello, runs it again and keeps a script that
# refers to it. The builders are input sources (files), not strings.
{ busyboxPath }:
let
  lib = import ./lib.nix { inherit busyboxPath; };
  hello = builtins.derivation {
    name = "hello";
    system = "x86_64-linux";
    builder = lib.bb;
    args = [ "sh" "-e" ../../examples/graph/assemble.sh ];
    src = ../../examples/graph/hello.hex;
    message = "Hello from a program assembled in the sandbox\n";
  };
in builtins.derivation {
  name = "greeting";
  system = "x86_64-linux";
  builder = lib.bb;
  args = [ "sh" "-e" ../../examples/graph/greeting.sh ];
  inherit hello;
  busybox = lib.busybox;
}
