# The builder of the example's second derivation: runs the program that the
# first one assembled ($hello/bin/hello) and keeps what it printed, with a
# script that runs it again (so the output refers to $hello and to busybox).
mkdir -p "$out/bin"
"$hello/bin/hello" > "$out/greeting.txt"
printf '#!%s sh\nexec %s/bin/hello "$@"\n' "$busybox/bin/busybox" "$hello" > "$out/bin/greet"
chmod 0555 "$out/bin/greet"
echo "greeting: $hello/bin/hello printed $(wc -c < "$out/greeting.txt") bytes:"
cat "$out/greeting.txt"
