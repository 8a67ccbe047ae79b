"""Shared helpers of the analysis scripts: reading midge's HDF5 files."""
import h5py
import numpy as np


def text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def history(f, stage):
    g = f.get(f"{stage}/history")
    if g is None or len(g["epoch"]) == 0:
        return None
    return {k: np.asarray(g[k]) for k in g}


def open_run(path):
    f = h5py.File(path, "r")
    status = f.attrs["status"]
    status = status.decode() if isinstance(status, bytes) else status
    return f, status
