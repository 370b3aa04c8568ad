# A directory: subdirectories (one empty), an empty file, an executable, a
# file with unusual permissions that canonicalisation must reset, symlinks
# (relative, absolute outside the store, dangling, to a directory) and a file
# with a name that needs no escaping in NAR but sorts oddly.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "tree" ''
  mkdir -p $out/bin $out/share/doc $out/empty-dir
  printf '#!/bin/sh\necho hi\n' > $out/bin/hello
  chmod 0755 $out/bin/hello
  printf 'data\n' > $out/share/doc/README
  chmod 0600 $out/share/doc/README
  : > $out/empty-file
  printf 'B\n' > $out/B
  printf 'a\n' > $out/a
  printf 'dot\n' > $out/.hidden
  ln -s ../bin/hello $out/share/hello-rel
  ln -s /etc/passwd $out/abs-link
  ln -s does/not/exist $out/dangling
  ln -s share $out/share-link
  chmod 0700 $out/share
''
  { }
