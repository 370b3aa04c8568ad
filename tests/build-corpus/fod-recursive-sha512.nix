# Fixed-output, recursive, sha512: the same directory as the sha256 case.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "fod-recursive-sha512" ''
  mkdir -p $out/bin
  printf 'fixed output, recursive\n' > $out/data
  printf '#!/bin/sh\necho fixed\n' > $out/bin/run
  chmod +x $out/bin/run
  ln -s data $out/link
'' {
  outputHashMode = "recursive";
  outputHashAlgo = "sha512";
  outputHash = "1i2z04gmw4r4wv759ay4xl7xgbvz3mn0plvngvl7a1dcmgpghwasfdw1lfdf3nvmjrkyc0cg589fb5bhv5bm3zvlh31y2ylch2w76ha";
}
