#!/usr/bin/env bash
# Compiler launcher for bench/build_time.sh: runs the compile command it is
# given and appends "seconds<TAB>peak KB<TAB>output file" to
# $MIDGE_COMPILE_LOG. The compile's own exit status is returned.
out=unknown
prev=
for a in "$@"; do
  if [ "$prev" = -o ]; then out=$a; fi
  prev=$a
done
stats=$(mktemp)
/usr/bin/time -f '%e\t%M' -o "$stats" "$@"
rc=$?
if [ -n "${MIDGE_COMPILE_LOG:-}" ]; then
  printf '%s\t%s\n' "$(cat "$stats")" "$out" >>"$MIDGE_COMPILE_LOG"
fi
rm -f "$stats"
exit "$rc"
