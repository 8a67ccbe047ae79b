#!/usr/bin/env bash
# The layering gate (scripts/check_layers.py) fails on an include against
# the order of docs/architecture.md, naming the file and line, and when a
# module has no place in that order; it passes on this checkout.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
check="/usr/bin/python3 $SRC/scripts/check_layers.py"
run $check "$SRC"
expect_rc 0 "this checkout"
expect_out "layers: clean"
mkdir -p copy/docs
cp -r "$SRC/src" copy/src
cp "$SRC/docs/architecture.md" copy/docs/
run $check copy
expect_rc 0 "an untouched copy"
# core reaching up into train; collect reaching into train.
printf '#include "train/trainer.h"\n' >>copy/src/core/text.cpp
printf '#include "train/evaluation.h"\n' >>copy/src/collect/summary.cpp
run $check copy
expect_rc 1 "two includes against the order"
expect_out "src/core/text.cpp:$(wc -l <copy/src/core/text.cpp): core -> train"
expect_out "src/collect/summary.cpp:$(wc -l <copy/src/collect/summary.cpp): collect -> train"
# A module the document does not place.
cp "$SRC/src/core/text.cpp" copy/src/core/text.cpp
cp "$SRC/src/collect/summary.cpp" copy/src/collect/summary.cpp
mkdir copy/src/misc && printf '#include "core/text.h"\n' >copy/src/misc/x.cpp
run $check copy
expect_rc 2 "a module without a place"
expect_out "gives no include order for src/misc"
done_ok
