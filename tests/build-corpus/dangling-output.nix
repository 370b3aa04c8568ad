# The output itself is a symlink to nothing (issue #5's "bad input" list): Nix
# 2.8 accepts it as a store object (a NAR symlink), so cloister must too.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "dangling-output" ''
  ln -s /nonexistent/target $out
''
  { }
