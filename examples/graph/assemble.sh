# The builder of the example's first derivation, run by the static busybox
# in cloister's sandbox: assembles and links $src (hello.hex) into
# $out/bin/hello, a static x86-64 ELF executable that prints $message,
# then runs it once as a check.

# le32 N, le64 N: N as little-endian bytes in hex
le32() {
        printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) \
                $(($1 >> 24 & 255))
}
le64() { echo "$(le32 "$1") 00 00 00 00"; }

base=$((0x400000))      # where the kernel maps the file
code_at=120             # the code follows the ELF header (64) and one program header (56)
msg_len=$(printf '%s' "$message" | wc -c)

# pass 1: the code's size, with the fields zero
code=$(sed 's/#.*//' "$src")
code_len=$(echo "$code" | sed 's/@[A-Z_]*@/00 00 00 00/g' | wc -w)
msg_addr=$((base + code_at + code_len))
size=$((code_at + code_len + msg_len))
echo "hello: $code_len bytes of code, a $msg_len-byte message at $(printf '%#x' $msg_addr)"

# pass 2: the fields filled in, behind the headers
mkdir -p "$out/bin"
{
        # ELF header: 64-bit, little-endian, executable, x86-64, entry point
        echo "7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00 02 00 3e 00 01 00 00 00"
        le64 $((base + code_at))        # e_entry
        le64 64                         # e_phoff
        le64 0                          # e_shoff (no sections)
        echo "00 00 00 00 40 00 38 00 01 00 00 00 00 00 00 00"
        # program header: PT_LOAD, readable and executable, the whole file
        echo "01 00 00 00 05 00 00 00"
        le64 0                          # p_offset
        le64 $base                      # p_vaddr
        le64 $base                      # p_paddr
        le64 $size                      # p_filesz
        le64 $size                      # p_memsz
        le64 4096                       # p_align
        echo "$code" | sed "s/@MSG_ADDR@/$(le32 $msg_addr)/; s/@MSG_LEN@/$(le32 $msg_len)/"
} | xxd -r -p > "$out/bin/hello"
printf '%s' "$message" >> "$out/bin/hello"
chmod 0555 "$out/bin/hello"

echo "hello: $(wc -c < "$out/bin/hello") bytes; running it:"
"$out/bin/hello"
