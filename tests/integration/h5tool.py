#!/usr/bin/python3
"""Reads midge's HDF5 files for the shell tests (Debian's h5py).

  h5tool.py get FILE PATH              print a dataset (scalar or list) or @attr of /
  h5tool.py attr FILE NAME             print a root attribute
  h5tool.py same FILE_A FILE_B PATH... exit 1 unless the datasets are bitwise equal
  h5tool.py changed A.h5 B.h5          print the /weights names that differ
  h5tool.py reseal FILE                after an edit with h5py: write midge's seal
                                       again, as if midge had written the edited file
  h5tool.py unseal IN OUT              copy IN without its seal (and without its
                                       user block): a file as an older midge wrote it

The seal is documented in docs/results-schema.md: the first 512 bytes hold
"midge-checksum 1\nsha256 <hex>\nbytes <N>\n" and zeros; the SHA-256 covers
every byte after them. Tests that edit a file on purpose reseal it, so that
what they test is what midge does with the edited contents.
"""
import hashlib
import os
import sys

import h5py
import numpy as np


def show(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray):
        return " ".join(show(x) for x in v.ravel())
    return str(v)


def reseal(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        head = f.read(512)
        if not head.startswith(b"midge-checksum 1\n"):
            sys.exit(f"{path}: no midge seal to renew")
        digest = hashlib.sha256(f.read()).hexdigest()
        text = f"midge-checksum 1\nsha256 {digest}\nbytes {size}\n".encode()
        f.seek(0)
        f.write(text + b"\0" * (512 - len(text)))


def main():
    cmd = sys.argv[1]
    if cmd == "get":
        with h5py.File(sys.argv[2], "r") as f:
            print(show(f[sys.argv[3]][()]))
    elif cmd == "attr":
        with h5py.File(sys.argv[2], "r") as f:
            print(show(f.attrs[sys.argv[3]]))
    elif cmd == "same":
        with h5py.File(sys.argv[2], "r") as a, h5py.File(sys.argv[3], "r") as b:
            for path in sys.argv[4:]:
                if not np.array_equal(a[path][()], b[path][()]):
                    print(f"differs: {path}")
                    sys.exit(1)
    elif cmd == "changed":
        with h5py.File(sys.argv[2], "r") as a, h5py.File(sys.argv[3], "r") as b:
            for name in a["weights"]:
                if not np.array_equal(a["weights"][name][()], b["weights"][name][()]):
                    print(name)
    elif cmd == "reseal":
        reseal(sys.argv[2])
    elif cmd == "unseal":
        with h5py.File(sys.argv[2], "r") as a, h5py.File(sys.argv[3], "w") as b:
            for key, value in a.attrs.items():
                b.attrs[key] = value
            for name in a:
                a.copy(a[name], b, name=name)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
