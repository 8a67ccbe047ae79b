#!/usr/bin/python3
"""Reads midge's HDF5 files for the shell tests (Debian's h5py).

  h5tool.py get FILE PATH              print a dataset (scalar or list) or @attr of /
  h5tool.py attr FILE NAME             print a root attribute
  h5tool.py same FILE_A FILE_B PATH... exit 1 unless the datasets are bitwise equal
  h5tool.py changed A.h5 B.h5          print the /weights names that differ
"""
import sys

import h5py
import numpy as np


def show(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray):
        return " ".join(show(x) for x in v.ravel())
    return str(v)


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
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
