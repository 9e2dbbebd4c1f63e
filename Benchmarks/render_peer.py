"""The Python peer of the render benchmark (Benchmarks/render_bench.py): the same job as
`/render/…?level=0&region=x,y,1024,1024&window=p1,p99` — zarr-python reads the region of
level 0, np.percentile gives the window, numpy maps it to 8 bits (the formula of
Docs/render.md), Pillow encodes PNG (compress_level given) or JPEG q90. One process per
worker; the array is opened once per worker (`init`)."""
from __future__ import annotations

import io
import time

import numpy as np

_level0 = None
REGION = 1024


def init(image: str) -> None:
    global _level0
    import zarr

    _level0 = zarr.open_array(f"{image}/0", mode="r")


def render(job) -> float:
    """One render; returns its seconds."""
    from PIL import Image

    _image, x, y, fmt, level = job
    t0 = time.perf_counter()
    plane = _level0[y:y + REGION, x:x + REGION]
    lo, hi = np.percentile(plane, [1, 99])
    v = np.clip((plane.astype(np.float64) - lo) / (hi - lo), 0, 1)
    picture = np.floor(v * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    if fmt == "jpeg":
        Image.fromarray(picture).save(buf, "JPEG", quality=90)
    else:
        Image.fromarray(picture).save(buf, "PNG", compress_level=level)
    return time.perf_counter() - t0
