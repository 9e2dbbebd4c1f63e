#!/usr/bin/env python3
"""The slide section's peer (Benchmarks/slide_bench.py): a whole-slide image to NGFF 0.5 the
way a careful Python user would write it, with openslide-python (or tiffslide) reading and
tensorstore writing.

    python Benchmarks/slide_peer.py --slide S.svs --out OUT.ome.zarr [--reader openslide|tiffslide]
                                    [--jobs N] [--codec JSON] [--chunk 256] [--shard 2048] [--chunk-c 3]

The job is Tessera's (Docs/convert.md) for an RGB source: level 0 as `c,y,x` uint8 (c = 3),
levels halving y and x (2×2 mean, rounded half up) until both fit in one chunk, chunks
C×256×256, shards C×2048×2048 (clamped to the level rounded up to whole chunks; C = 3,
Tessera's default for 8-bit RGB, or 1), the codec given as a v3 bytes→bytes codec (the
bench passes Tessera's), omero windows from level 0's histograms, scale from the mpp.

How it runs: level 0 is read in bands one shard high (2048 rows), each band as 2048×2048
regions read in parallel by `--jobs` threads (one OpenSlide handle per thread: the
library's calls release the GIL), RGBA → RGB (alpha is 255 on these slides), written to
tensorstore asynchronously (whole shards, so no read-modify-write) while numpy computes
the band's 2×2 mean into level 1's band; every level keeps one shard-high band and writes
it when full, so memory is a few bands, not a level (but a band is the slide's full width:
~2 GiB peak at 32768 px wide, ~650 MiB at 8192). Prints one JSON line: seconds (after
imports), pixels, levels, versions.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

RGB_WINDOWS = ("FF0000", "00FF00", "0000FF")


def level_shapes(h, w, chunk):
    shapes = [(3, h, w)]
    while shapes[-1][1] > chunk or shapes[-1][2] > chunk:
        _, y, x = shapes[-1]
        shapes.append((3, (y + 1) // 2, (x + 1) // 2))
    return shapes


def mean2(a):
    """2×2 mean of a (3, Y, X) uint8 band, rounded half up; odd edges average what exists."""
    c, y, x = a.shape
    ye, xe = y - y % 2, x - x % 2
    s = a[:, 0:ye:2, 0:xe:2].astype(np.uint16)
    s += a[:, 1:ye:2, 0:xe:2]
    s += a[:, 0:ye:2, 1:xe:2]
    s += a[:, 1:ye:2, 1:xe:2]
    out = np.empty((c, (y + 1) // 2, (x + 1) // 2), np.uint8)
    out[:, :ye // 2, :xe // 2] = (s + 2) // 4
    if x % 2:  # last column: pairs of rows
        col = a[:, 0:ye:2, -1].astype(np.uint16) + a[:, 1:ye:2, -1]
        out[:, :ye // 2, -1] = (col + 1) // 2
    if y % 2:  # last row: pairs of columns (and the corner alone)
        rowv = a[:, -1, 0:xe:2].astype(np.uint16) + a[:, -1, 1:xe:2]
        out[:, -1, :xe // 2] = (rowv + 1) // 2
        if x % 2:
            out[:, -1, -1] = a[:, -1, -1]
    return out


def spec(path, shape, chunk, shard, codec, chunk_c):
    c = [chunk_c, min(chunk, shape[1]), min(chunk, shape[2])]
    s = [chunk_c] + [min(shard, -(-shape[i] // c[i]) * c[i]) for i in (1, 2)]
    return {
        "driver": "zarr3", "kvstore": {"driver": "file", "path": path},
        "metadata": {
            "shape": list(shape), "data_type": "uint8",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": s}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0,
            "codecs": [{"name": "sharding_indexed", "configuration": {
                "chunk_shape": c,
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}] + ([codec] if codec else []),
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                "index_location": "end"}}],
            "dimension_names": ["c", "y", "x"],
        },
    }, s[1]


class Reader:
    """Level-0 regions as (3, h, w) uint8, one slide handle per thread."""

    def __init__(self, path, kind):
        self.path, self.kind = path, kind
        self.local = threading.local()
        first = self.handle()
        self.width, self.height = first.dimensions
        props = first.properties
        self.mpp = tuple(float(props[k]) if props.get(k) else None for k in ("openslide.mpp-y", "openslide.mpp-x")) \
            if kind == "openslide" else tuple(props.get(k) for k in ("tiffslide.mpp-y", "tiffslide.mpp-x"))

    def handle(self):
        h = getattr(self.local, "h", None)
        if h is None:
            if self.kind == "openslide":
                import openslide
                h = openslide.OpenSlide(self.path)
            else:
                import tiffslide
                h = tiffslide.TiffSlide(self.path)
            self.local.h = h
        return h

    def read(self, x, y, w, h, out):
        """out[:, :h, :w] = RGB of the level-0 region at (x, y)."""
        if self.kind == "openslide":
            rgba = np.asarray(self.handle().read_region((x, y), 0, (w, h)))
            rgb = rgba[..., :3]
        else:
            rgb = np.asarray(self.handle().read_region((x, y), 0, (w, h), as_array=True))[..., :3]
        np.copyto(out[:, :h, :w], rgb.transpose(2, 0, 1))


class Level:
    """One output level: a shard-high band buffer, written when full, its mean handed on."""

    def __init__(self, array, shape, band, lower):
        self.array, self.shape, self.band, self.lower = array, shape, band, lower
        self.buf = np.empty((3, band, shape[2]), np.uint8)
        self.filled = 0  # rows of the buffer holding data
        self.y0 = 0  # the level row where the buffer starts
        self.pending = None

    def add(self, rows):
        """Append rows (3, n, X) of this level; writes (and hands down) every full band."""
        done = 0
        n = rows.shape[1]
        while done < n:
            if self.pending is not None and self.filled == 0:
                self.pending.result()  # tensorstore may still be reading the buffer
                self.pending = None
            take = min(n - done, self.band - self.filled)
            self.buf[:, self.filled:self.filled + take] = rows[:, done:done + take]
            self.filled += take
            done += take
            if self.filled == self.band or self.y0 + self.filled == self.shape[1]:
                self.flush()

    def flush(self):
        if self.filled == 0:
            return
        data = self.buf[:, :self.filled]
        self.pending = self.array[:, self.y0:self.y0 + self.filled, :].write(
            data, can_reference_source_data_indefinitely=True).commit
        if self.lower is not None:
            self.lower.add(mean2(data))
        self.y0 += self.filled
        self.filled = 0
        # The buffer is reused at the next add: wait there, not here, so the write overlaps.

    def finish(self):
        self.flush()
        if self.pending is not None:
            self.pending.result()


def omero(hist):
    channels = []
    for k in range(3):
        h = hist[k]
        nz = np.nonzero(h)[0]
        cdf = np.cumsum(h)
        total = int(cdf[-1])

        def pct(q):  # numpy method="inverted_cdf"
            return int(np.searchsorted(cdf, q * total, side="left"))
        channels.append({"label": ("red", "green", "blue")[k], "color": RGB_WINDOWS[k], "active": True,
                         "window": {"min": int(nz[0]), "max": int(nz[-1]), "start": pct(0.001), "end": pct(0.999)}})
    return {"channels": channels, "rdefs": {"model": "color"}}


def write_group(out, shapes, name, mpp, hist):
    sy, sx = (mpp[0] or 1.0), (mpp[1] or 1.0)
    unit = {"unit": "micrometer"} if mpp[0] else {}
    axes = [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", **unit}, {"name": "x", "type": "space", **unit}]
    datasets = []
    for i in range(len(shapes)):
        f = float(2 ** i)
        datasets.append({"path": str(i), "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, sy * f, sx * f]},
            {"type": "translation", "translation": [0.0, sy * (f - 1) / 2, sx * (f - 1) / 2]}]})
    doc = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
        "version": "0.5", "multiscales": [{"name": name, "axes": axes, "datasets": datasets, "type": "mean"}],
        "omero": omero(hist)}}}
    with open(os.path.join(out, "zarr.json"), "w") as f:
        json.dump(doc, f, indent=2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slide", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reader", choices=("openslide", "tiffslide"), default="openslide")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--codec", default=json.dumps({"name": "blosc", "configuration": {
        "cname": "zstd", "clevel": 1, "shuffle": "shuffle", "typesize": 1, "blocksize": 0}}),
        help="a v3 bytes->bytes codec as JSON, or 'null' for none")
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--shard", type=int, default=2048)
    ap.add_argument("--chunk-c", type=int, choices=(1, 3), default=3, help="channels per chunk and shard")
    a = ap.parse_args(argv)
    import tensorstore as ts
    from importlib.metadata import version
    start = time.perf_counter()
    codec = json.loads(a.codec)
    ctx = ts.Context({"data_copy_concurrency": {"limit": a.jobs}, "file_io_concurrency": {"limit": a.jobs},
                      "file_io_sync": False, "cache_pool": {"total_bytes_limit": 0}})
    reader = Reader(a.slide, a.reader)
    shapes = level_shapes(reader.height, reader.width, a.chunk)
    out = os.path.abspath(a.out)
    os.makedirs(out)
    levels = []
    for i, shape in enumerate(shapes):
        sp, band = spec(os.path.join(out, str(i)), shape, a.chunk, a.shard, codec, a.chunk_c)
        levels.append((ts.open(sp, create=True, context=ctx).result(), shape, band))
    chain = None
    for array, shape, band in reversed(levels[1:]):
        chain = Level(array, shape, band, chain)
    level0, shape0, band0 = levels[0]
    pool = ThreadPoolExecutor(a.jobs)
    hist = np.zeros((3, 256), np.int64)
    bufs = [np.empty((3, band0, reader.width), np.uint8) for _ in range(2)]
    pending = [None, None]
    region = band0
    for b, y0 in enumerate(range(0, reader.height, band0)):
        h = min(band0, reader.height - y0)
        i = b % 2
        if pending[i] is not None:
            pending[i].result()
        buf = bufs[i][:, :h]
        jobs = [pool.submit(reader.read, x0, y0, min(region, reader.width - x0), h, buf[:, :, x0:x0 + region])
                for x0 in range(0, reader.width, region)]
        for j in jobs:
            j.result()
        pending[i] = level0[:, y0:y0 + h, :].write(buf, can_reference_source_data_indefinitely=True).commit
        hists = [pool.submit(np.bincount, buf[k].reshape(-1), minlength=256) for k in range(3)]
        if chain is not None:
            chain.add(mean2(buf))
        for k, f in enumerate(hists):
            hist[k] += f.result()
    for p in pending:
        if p is not None:
            p.result()
    level = chain
    while level is not None:
        level.finish()
        level = level.lower
    pool.shutdown()
    write_group(out, shapes, os.path.basename(a.slide), reader.mpp, hist)
    seconds = time.perf_counter() - start
    print(json.dumps({"tool": f"{a.reader}+tensorstore", "seconds": seconds, "pixels": reader.width * reader.height,
                      "levels": len(shapes), "versions": {a.reader: version(f"{a.reader}-python" if a.reader == "openslide" else a.reader),
                                                          "tensorstore": version("tensorstore")}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
