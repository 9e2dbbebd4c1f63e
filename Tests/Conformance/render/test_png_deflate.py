"""Tessera's own deflate encoder (FastDeflate, Docs/render.md "Encoders") read by other
inflaters: Python's zlib inflates each PNG's IDAT to exactly the filtered rows (Adler-32
checked by zlib), the rows unfiltered by hand equal the picture, and Pillow (libpng-free,
its own zlib-based decoder) opens the file to the same pixels.

Pictures large enough for several deflate blocks (128 KiB of filtered bytes each): sparse
(mostly zeros: runs), noisy (incompressible: stored blocks), flat (one value), a gradient,
and 16-bit noise with spots.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image as PILImage

HEIGHT, WIDTH = 600, 700


def sparse(rng):
    v = np.zeros((HEIGHT, WIDTH), np.uint8)
    for _ in range(40):
        y, x = rng.integers(0, HEIGHT - 8), rng.integers(0, WIDTH - 8)
        v[y:y + 6, x:x + 6] = rng.integers(1, 256, (6, 6))
    return v


PICTURES = {
    "sparse": sparse,
    "noisy": lambda rng: rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8),
    "flat": lambda rng: np.full((HEIGHT, WIDTH), 77, np.uint8),
    "gradient": lambda rng: (np.add.outer(np.arange(HEIGHT), np.arange(WIDTH)) * 255 // (HEIGHT + WIDTH)).astype(np.uint8),
    "noisy16": lambda rng: np.where(rng.random((HEIGHT, WIDTH)) < 0.5, 0,
                                    rng.integers(0, 65536, (HEIGHT, WIDTH))).astype(np.uint16),
}


def idat_stream(png: bytes) -> bytes:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    i, idat = 8, b""
    while i < len(png):
        (n,) = struct.unpack(">I", png[i:i + 4])
        kind = png[i + 4:i + 8]
        if kind == b"IDAT":
            idat += png[i + 8:i + 8 + n]
        i += 12 + n
    return idat


def unfilter_sub(raw: bytes, height: int, row_bytes: int, bpp: int) -> np.ndarray:
    rows = np.frombuffer(raw, np.uint8).reshape(height, row_bytes + 1)
    assert (rows[:, 0] == 1).all(), "filter Sub on every row"
    out = rows[:, 1:].astype(np.uint8).copy()
    for x in range(bpp, row_bytes):
        out[:, x] += out[:, x - bpp]
    return out


@pytest.mark.parametrize("name", list(PICTURES))
def test_zlib_and_pillow_read_our_png(run_convert, run_tessera, tmp_path, name):
    picture = PICTURES[name](np.random.default_rng(5))
    tifffile.imwrite(tmp_path / "in.tif", picture)
    run_convert("convert", tmp_path / "in.tif", tmp_path / "in.ome.zarr", check=True)
    bits = 16 if picture.dtype == np.uint16 else 8
    proc = run_tessera("render", tmp_path / "in.ome.zarr", tmp_path / "out.png", "--level", "0",
                       "--bits", str(bits), "--window", "none")
    assert proc.returncode == 0, proc.stderr
    png = (tmp_path / "out.png").read_bytes()

    bpp = bits // 8
    decompressor = zlib.decompressobj()
    raw = decompressor.decompress(idat_stream(png))
    assert decompressor.eof and not decompressor.unused_data, "one complete zlib stream"
    assert len(raw) == HEIGHT * (WIDTH * bpp + 1)
    rows = unfilter_sub(raw, HEIGHT, WIDTH * bpp, bpp)
    want = picture.astype(">u2").view(np.uint8).reshape(HEIGHT, -1) if bits == 16 else picture
    np.testing.assert_array_equal(rows, want)

    with PILImage.open(tmp_path / "out.png") as im:
        im.load()
        np.testing.assert_array_equal(np.array(im), picture)
    if name in ("sparse", "flat", "gradient"):
        assert len(png) < picture.nbytes / 5, f"{name}: {len(png)} bytes for {picture.nbytes}"
