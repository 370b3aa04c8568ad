# passAsFile: 'text' and 'multi' arrive as files under the build directory
# (their variables unset, textPath/multiPath set); 'plain' stays a variable.
# The output records the file names, the contents and which variables exist.
{ busyboxPath }:
(import ./lib.nix { inherit busyboxPath; }).mk "pass-as-file" ''
  mkdir $out
  echo "$textPath" > $out/text-path
  echo "$multiPath" > $out/multi-path
  cp "$textPath" $out/text
  cp "$multiPath" $out/multi
  echo "text=''${text-unset} multi=''${multi-unset} plain=$plain" > $out/vars
  ls -la "$textPath" "$multiPath" | sed 's/  */ /g' | cut -d' ' -f1,5 > $out/modes
'' {
  passAsFile = [ "text" "multi" ];
  text = "a value passed as a file\n";
  multi = "line one\nline two\n\ttabbed 'quoted' \"double\" $dollar\n";
  plain = "still a variable";
}
