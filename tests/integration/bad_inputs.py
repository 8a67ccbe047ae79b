#!/usr/bin/python3
"""Writes a corpus of awkward and broken image files into DIR (Debian's
python3-pil, numpy). Prints one line per entry: NAME KIND, where KIND is
`readable` (midge must decode and use it), `unreadable` (listed with a
reason, never fatal) or `not-a-file` (a folder or a symlink loop: never an
image). usage: bad_inputs.py DIR
"""
import io
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width, height):
    # A valid PNG whose header claims width x height 8-bit grey pixels; the
    # IDAT holds only a few rows. Decoders that trust the header allocate
    # width * height bytes first.
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 4)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", rows) +
            png_chunk(b"IEND", b""))


def encoded(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    rgb = Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8), "RGB")
    entries = []

    def put(name, data, kind):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        entries.append((name, kind))

    put("bad_empty.jpg", b"", "unreadable")
    put("bad_text.png", b"this is a text file, not a PNG\n", "unreadable")
    jpg = encoded(rgb, "JPEG", quality=90)
    put("bad_truncated.jpg", jpg[: len(jpg) // 2], "unreadable")
    png = encoded(rgb, "PNG")
    put("bad_truncated.png", png[: len(png) // 2], "unreadable")
    put("bad_bomb.png", bomb_png(60000, 60000), "unreadable")
    grey16 = Image.fromarray((rng.integers(0, 65536, (40, 56))).astype(np.uint16))
    put("ok_grey16.png", encoded(grey16, "PNG"), "readable")
    put("ok_rgba.png", encoded(rgb.convert("RGBA"), "PNG"), "readable")
    put("ok_cmyk.jpg", encoded(rgb.convert("CMYK"), "JPEG"), "readable")
    put("ok_grey.jpg", encoded(rgb.convert("L"), "JPEG"), "readable")
    put("ok_1x1.png", encoded(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"), "readable")
    strip = Image.fromarray(rng.integers(0, 256, (20, 20000, 3), dtype=np.uint8), "RGB")
    put("ok_strip.png", encoded(strip, "PNG"), "readable")
    os.makedirs(os.path.join(out, "folder.jpg"), exist_ok=True)
    entries.append(("folder.jpg", "not-a-file"))
    os.symlink("loop.jpg", os.path.join(out, "loop.jpg"))
    entries.append(("loop.jpg", "not-a-file"))
    for name, kind in entries:
        print(name, kind)


if __name__ == "__main__":
    main()
