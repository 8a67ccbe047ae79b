#!/usr/bin/python3
"""The translation units scripts/lint.sh hands clang-tidy: the build's
compile commands (compile_commands.json, read from IN) with each target's
unity batches merged into one unit, written to DIR/compile_commands.json
beside the merged units (DIR/<target>_lint.cxx).

Parsing LibTorch's headers is ~9 of the ~12 s clang-tidy spends on a
LibTorch batch, and a target's batches differ only in the sources they
#include (the same command otherwise), so one unit per target parses them
once. The unity rule (names in anonymous namespaces unique across a
target's sources, cmake/MidgeUnity.cmake) makes the merge compile; batches
with another command are merged among themselves.

usage: lint_units.py IN DIR
"""
import collections, json, os, re, sys
source, db = sys.argv[1], sys.argv[2]
entries = json.load(open(source))
# (target folder, command without its file and output) -> batches
batches = collections.defaultdict(list)
out = []
for e in entries:
    m = re.match(r"(.*)/Unity/unity_\d+_cxx\.cxx$", e["file"])
    if m:
        command = re.sub(r" -o \S+", "", e["command"].replace(e["file"], "@"))
        batches[(m.group(1), command)].append(e)
    else:
        out.append(e)
targets = collections.Counter(target for target, _ in batches)
for (target, command), group in sorted(batches.items()):
    if len(group) == 1:
        out.extend(group)
        continue
    name = os.path.basename(target).replace(".dir", "")
    if targets[target] > 1:  # batches with other commands: a unit of their own each
        name += "_" + str(sorted(batches).index((target, command)))
    merged = os.path.join(db, name + "_lint.cxx")
    with open(merged, "w") as f:
        for e in sorted(group, key=lambda e: e["file"]):
            f.write(open(e["file"]).read())
    first = group[0]
    out.append(dict(first, file=merged, command=first["command"].replace(first["file"], merged)))
json.dump(out, open(os.path.join(db, "compile_commands.json"), "w"), indent=1)
