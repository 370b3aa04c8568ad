# Fixed-output, recursive, sha256 of a single regular file (the NAR of a
# file, not its flat contents).
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "fod-recursive-file" ''
  printf 'recursive sha256\n' > $out
'' {
  outputHashMode = "recursive";
  outputHashAlgo = "sha256";
  outputHash = "0xd9ssqijmbnwdphn8hj8w3n1fpq2ypzk19597g3wlk52b94gaqq";
}
