#!/usr/bin/env python3
"""The layering gate: every `#include "module/..."` in src/ must follow the
include order written in docs/architecture.md ("Includes point one way"),
which this script reads, so the document and the check cannot disagree.

usage: scripts/check_layers.py [ROOT]   (ROOT: a checkout, default this one)
Prints each include against the order (file:line: module -> module) and
exits 1 when there is one, 2 when the order cannot be read; "layers: clean"
and 0 otherwise."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
doc = (root / "docs" / "architecture.md").read_text()
m = re.search(r"Includes point one way.*?```\n(.*?)```", doc, re.S)
if not m:
    print("layers: docs/architecture.md has no 'Includes point one way' block")
    sys.exit(2)
allowed = {}
for line in m.group(1).splitlines():
    if "->" not in line:
        continue
    name, rest = (part.strip() for part in line.split("->", 1))
    rest = re.sub(r"\(.*?\)", "", rest)  # remarks in parentheses
    if rest.startswith("nothing"):
        allowed[name] = set()
    elif rest.startswith("any"):
        allowed[name] = None  # the top: may include anything
    else:
        allowed[name] = {x.strip() for x in rest.split(";")[0].split(",") if x.strip()}
modules = sorted(p.name for p in (root / "src").iterdir() if p.is_dir())
missing = [mod for mod in modules if mod not in allowed]
if missing:
    print("layers: docs/architecture.md gives no include order for src/" + ", src/".join(missing))
    sys.exit(2)
bad = []
for mod in modules:
    for f in sorted((root / "src" / mod).rglob("*")):
        if f.suffix not in (".h", ".cpp"):
            continue
        for n, text in enumerate(f.read_text(errors="replace").splitlines(), 1):
            inc = re.match(r'\s*#\s*include\s+"([a-z_]+)/', text)
            if not inc or inc.group(1) == mod:
                continue
            to = inc.group(1)
            if allowed[mod] is not None and to not in allowed[mod]:
                bad.append(f"{f.relative_to(root)}:{n}: {mod} -> {to} (against docs/architecture.md)")
            elif allowed.get(to, set()) is None:
                bad.append(f"{f.relative_to(root)}:{n}: {mod} -> {to} (nothing includes {to})")
for b in bad:
    print(b)
if bad:
    sys.exit(1)
print(f"layers: clean ({len(modules)} modules)")
