#!/usr/bin/env python3
"""Child processes of the conversion benchmark (Benchmarks/convert_bench.py).

    python Benchmarks/convert_peers.py tensorstore --tiff IN.tif --out OUT.ome.zarr
        --ngff 0.5|0.4 --cname zstd|lz4 [--clevel 5] [--chunks 64] [--jobs N] [--no-omero]
    python Benchmarks/convert_peers.py ngff-zarr   --tiff IN.tif --out OUT.ome.zarr
        --ngff 0.5|0.4 --cname zstd|lz4 [--clevel 5] [--chunks 64] [--jobs N]
    python Benchmarks/convert_peers.py verify --out OUT.ome.zarr

Each conversion prints one JSON line {"tool", "op": "convert", "seconds", "bytes", ...};
`seconds` is measured inside the process (after imports); the driver also times the
whole process. `verify` prints the levels it finds (path, shape, chunks, shards, codec,
checksum = sum of all uint16 values as a wrapping uint64) for the driver to check.

The job, the same for every tool (Docs/convert.md's pyramid with `--chunks 64`):
  level n+1 = 2x2x2 mean of level n (z, y and x halved; integer mean rounded half up,
  i.e. (sum + 4) // 8), until y and x fit in one 64 chunk; chunks 64^3 clamped to the
  level; NGFF 0.5 = Zarr v3 with shards of 4 chunks per axis (clamped to the level
  rounded up to whole chunks), NGFF 0.4 = Zarr v2, "/" separator; blosc with byte shuffle.

tensorstore: a script a careful tensorstore user would write. The TIFF is parsed with
  tifffile and read in bands of 256 rows (one shard row at level 0) across all pages with
  preadv straight into the band buffer (the tiles are uncompressed); each band is written
  to level 0 with tensorstore (whole shards / whole chunks, so no read-modify-write)
  while numpy computes its 2x2x2 mean into level 1, which is kept in memory (1/8 of the
  input); levels 2... are computed from the level above in memory. Two band buffers, so
  reading band b+1 overlaps tensorstore compressing band b. It also computes the omero
  window (min, max, 0.1 / 99.9 percentiles over level 0, exact from a 65536-bin
  histogram), as Tessera does.
ngff-zarr: its Python API, which the CLI wraps (the CLI cannot ask for z to be halved at
  every level: its default scale factors keep z until y/x reach it). Input through
  ngff-zarr's own tifffile reader (what the CLI uses), to_multiscales with
  scale_factors [2, 4, 8, ...] and method dask_bin_shrink (2x2x2 mean, integers rounded
  half up: the same samples), chunks 64, to_ngff_zarr with chunks_per_shard 4 for 0.5,
  compressor numcodecs.Blosc(cname, clevel, SHUFFLE), and the omero window from
  compute_omero_from_multiscales (2 % / 98 %), as its CLI does by default. ngff-zarr >= 0.4x writes through
  zarrista (zarrs); `use_tensorstore` is deprecated and does nothing.
"""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

CHUNKS_PER_SHARD = 4


def _version(dist):
    from importlib.metadata import version
    return version(dist)


# ----------------------------------------------------------------------------- the pyramid

def level_shapes(shape, chunk=64):
    """Docs/convert.md: halve (ceil) z, y, x (z while > 1) until y and x fit one chunk."""
    shapes = [tuple(shape)]
    while shapes[-1][1] > chunk or shapes[-1][2] > chunk:
        z, y, x = shapes[-1]
        shapes.append(((z + 1) // 2 if z > 1 else 1, (y + 1) // 2, (x + 1) // 2))
    return shapes


def check_power_of_two_pyramid(shape, chunk=64):
    """The peers' downsampling (and the expected checksums) need every level to halve
    exactly: all sizes even at every step (z may reach 1)."""
    shapes = level_shapes(shape, chunk)
    for a, b in zip(shapes, shapes[1:]):
        for i in range(3):
            if a[i] != 1 and a[i] != 2 * b[i]:
                raise ValueError(f"shape {shape}: level {a} does not halve exactly; "
                                 "use sizes that are powers of two")
    return shapes


def mean2(a, out=None):
    """2x2x2 mean of a (Z, Y, X) uint16 array with even Y, X (and even Z or Z == 1),
    rounded half up exactly: (sum + n/2) // n, n = 8 (or 4 when Z == 1)."""
    s = np.add(a[:, :, 0::2], a[:, :, 1::2], dtype=np.uint32)
    s = s[:, 0::2] + s[:, 1::2]
    n = 4
    if a.shape[0] > 1:
        s = s[0::2] + s[1::2]
        n = 8
    s += n // 2
    s //= n
    if out is None:
        return s.astype(a.dtype)
    np.copyto(out, s, casting="unsafe")
    return out


def chunk_shape(level_shape, chunk=64):
    return tuple(min(chunk, s) for s in level_shape)


def shard_shape(level_shape, chunk=64):
    """chunk x 4 per axis, clamped to the level size rounded up to whole chunks."""
    c = chunk_shape(level_shape, chunk)
    return tuple(min(ci * CHUNKS_PER_SHARD, -(-s // ci) * ci) for s, ci in zip(level_shape, c))


def ngff_transforms(level):
    f = float(2 ** level)
    return [{"type": "scale", "scale": [f, f, f]},
            {"type": "translation", "translation": [(f - 1) / 2] * 3}]


# ----------------------------------------------------------------------------- TIFF reading

class TiledTiff:
    """Reads row bands of a tiled, uncompressed, uint16, one-sample multi-page TIFF
    (z = pages) straight into a numpy buffer. Parsing is tifffile's; reading is preadv of
    each page's tiles of the band (one call per page when they are contiguous)."""

    def __init__(self, path):
        import tifffile
        self.tif = tifffile.TiffFile(path)
        pages = self.tif.pages
        pages.cache = True
        pages.useframes = False
        first = pages.first
        if not first.is_tiled or first.compression != 1 or first.dtype != np.uint16 or first.samplesperpixel != 1:
            raise SystemExit("convert_peers.py: the TIFF must be tiled, uncompressed, uint16, one sample")
        self.ty, self.tx = first.tilelength, first.tilewidth
        self.y, self.x = first.imagelength, first.imagewidth
        self.z = len(pages)
        self.ntx = -(-self.x // self.tx)
        if self.x % self.tx or self.y % self.ty:
            raise SystemExit("convert_peers.py: image size must be a multiple of the tile size")
        self.shape = (self.z, self.y, self.x)
        self.offsets = []
        self.counts = []
        for k in range(self.z):
            p = pages[k]
            if (p.imagelength, p.imagewidth, p.tilelength, p.tilewidth, p.compression) != \
                    (self.y, self.x, self.ty, self.tx, 1):
                raise SystemExit(f"convert_peers.py: page {k} differs from page 0")
            self.offsets.append(np.asarray(p.dataoffsets, dtype=np.int64))
            self.counts.append(np.asarray(p.databytecounts, dtype=np.int64))
        self.fd = os.open(path, os.O_RDONLY)
        self.tile_bytes = self.ty * self.tx * 2
        self.row_buf = np.empty((self.ntx, self.ty, self.tx), dtype="<u2")

    def read_band(self, y0, y1, out):
        """out[:, :y1-y0, :] = image[:, y0:y1, :]; y0, y1 multiples of the tile length."""
        assert y0 % self.ty == 0 and (y1 % self.ty == 0 or y1 == self.y)
        view = memoryview(self.row_buf).cast("B")
        for k in range(self.z):
            offs, cnts = self.offsets[k], self.counts[k]
            for r in range(y0 // self.ty, -(-y1 // self.ty)):
                i0 = r * self.ntx
                o, c = offs[i0:i0 + self.ntx], cnts[i0:i0 + self.ntx]
                if (c == self.tile_bytes).all() and (np.diff(o) == self.tile_bytes).all():
                    n = os.preadv(self.fd, [view], int(o[0]))
                    if n != len(view):
                        raise OSError("short read")
                else:
                    for j in range(self.ntx):
                        tv = view[j * self.tile_bytes:(j + 1) * self.tile_bytes]
                        if os.preadv(self.fd, [tv], int(o[j])) != self.tile_bytes:
                            raise OSError("short read")
                ry = r * self.ty - y0
                dst = out[k, ry:ry + self.ty, :].reshape(self.ty, self.ntx, self.tx)
                np.copyto(dst, self.row_buf.transpose(1, 0, 2))

    def close(self):
        os.close(self.fd)
        self.tif.close()


# ----------------------------------------------------------------------------- tensorstore

def ts_spec(path, ngff, shape, cname, clevel, chunk):
    c = chunk_shape(shape, chunk)
    blosc = dict(cname=cname, clevel=clevel, shuffle="shuffle", typesize=2, blocksize=0)
    kv = {"driver": "file", "path": path}
    if ngff == "0.5":
        return {
            "driver": "zarr3", "kvstore": kv,
            "metadata": {
                "shape": list(shape), "data_type": "uint16",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shard_shape(shape, chunk))}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0,
                "codecs": [{"name": "sharding_indexed", "configuration": {
                    "chunk_shape": list(c),
                    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                               {"name": "blosc", "configuration": blosc}],
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                    "index_location": "end"}}],
                "dimension_names": ["z", "y", "x"],
            },
        }
    return {
        "driver": "zarr", "kvstore": kv, "key_encoding": "/",
        "metadata": {
            "zarr_format": 2, "shape": list(shape), "chunks": list(c), "dtype": "<u2",
            "compressor": {"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": 1, "blocksize": 0},
            "filters": None, "fill_value": 0, "order": "C", "dimension_separator": "/",
        },
    }


def write_group_metadata(out, ngff, shapes, name, omero):
    axes = [{"name": a, "type": "space"} for a in "zyx"]
    ms = {"name": name, "axes": axes, "type": "mean",
          "datasets": [{"path": str(i), "coordinateTransformations": ngff_transforms(i)} for i in range(len(shapes))]}
    if ngff == "0.5":
        ome = {"version": "0.5", "multiscales": [ms]}
        if omero:
            ome["omero"] = omero
        doc = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
        with open(os.path.join(out, "zarr.json"), "w") as f:
            json.dump(doc, f, indent=2)
    else:
        ms["version"] = "0.4"
        attrs = {"multiscales": [ms]}
        if omero:
            attrs["omero"] = omero
        with open(os.path.join(out, ".zgroup"), "w") as f:
            json.dump({"zarr_format": 2}, f)
        with open(os.path.join(out, ".zattrs"), "w") as f:
            json.dump(attrs, f, indent=2)


def omero_from_histogram(hist):
    nz = np.nonzero(hist)[0]
    cdf = np.cumsum(hist)
    total = int(cdf[-1])

    def pct(q):  # numpy method="inverted_cdf": smallest v with cdf(v) >= q * n
        return int(np.searchsorted(cdf, q * total, side="left"))
    return {"channels": [{"label": "Channel 0", "color": "FFFFFF", "active": True,
                          "window": {"min": int(nz[0]), "max": int(nz[-1]),
                                     "start": pct(0.001), "end": pct(0.999)}}],
            "rdefs": {"model": "greyscale"}}


def convert_tensorstore(a):
    import tensorstore as ts
    ctx = ts.Context({
        "data_copy_concurrency": {"limit": a.jobs},
        "file_io_concurrency": {"limit": a.jobs},
        "file_io_sync": False,
        "cache_pool": {"total_bytes_limit": 0},
    })
    start = time.perf_counter()
    src = TiledTiff(a.tiff)
    shapes = check_power_of_two_pyramid(src.shape, a.chunks)
    out = os.path.abspath(a.out)
    os.makedirs(out)
    arrays = [ts.open(ts_spec(os.path.join(out, str(i)), a.ngff, s, a.cname, a.clevel, a.chunks),
                      create=True, context=ctx).result() for i, s in enumerate(shapes)]
    z, y, x = src.shape
    band = shard_shape(src.shape, a.chunks)[1] if a.ngff == "0.5" else 4 * chunk_shape(src.shape, a.chunks)[1]
    band = max(band, src.ty)
    nbuf = 2
    bufs = [np.empty((z, band, x), dtype="<u2") for _ in range(nbuf)]
    pending = [[] for _ in range(nbuf)]  # per buffer: the futures still using it
    hist = np.zeros(65536, dtype=np.int64) if a.omero else None
    lower = np.empty(shapes[1], dtype="<u2") if len(shapes) > 1 else None
    pool = ThreadPoolExecutor(a.jobs)
    group = 8  # planes per task: numpy releases the GIL in the mean's ufuncs, not in bincount

    def process(buf, z0, z1, ly0, ly1):
        """The 2x2x2 mean of planes z0:z1 into level 1 and their histogram."""
        if lower is not None:
            zl = (z0 // 2, (z1 + 1) // 2) if z > 1 else (0, 1)
            mean2(buf[z0:z1], out=lower[zl[0]:zl[1], ly0:ly1])
        if hist is None:
            return None
        h = np.zeros(65536, dtype=np.int64)
        for k in range(z0, z1):
            h += np.bincount(buf[k].reshape(-1), minlength=65536)
        return h

    def release(i):
        for f in pending[i]:
            r = f.result()
            if isinstance(r, np.ndarray):
                hist[:] += r
        pending[i] = []

    t_wait = t_read = 0.0
    for b, y0 in enumerate(range(0, y, band)):
        y1 = min(y, y0 + band)
        i = b % nbuf
        t = time.perf_counter()
        release(i)  # tensorstore and the workers have finished with this buffer
        t_wait += time.perf_counter() - t
        buf = bufs[i][:, :y1 - y0]
        t = time.perf_counter()
        src.read_band(y0, y1, buf)
        t_read += time.perf_counter() - t
        pending[i].append(arrays[0][:, y0:y1, :].write(buf, can_reference_source_data_indefinitely=True).commit)
        for z0 in range(0, z, group):
            pending[i].append(pool.submit(process, buf, z0, min(z, z0 + group), y0 // 2, (y1 + 1) // 2))
    for i in range(nbuf):
        release(i)
    pool.shutdown()
    t_level0 = time.perf_counter() - start
    src.close()
    level = lower
    for i in range(1, len(shapes)):
        fut = arrays[i].write(level, can_reference_source_data_indefinitely=True).commit
        nxt = mean2(level) if i + 1 < len(shapes) else None
        fut.result()
        level = nxt
    omero = omero_from_histogram(hist) if hist is not None else None
    write_group_metadata(out, a.ngff, shapes, os.path.basename(a.tiff), omero)
    seconds = time.perf_counter() - start
    return dict(seconds=seconds, bytes=z * y * x * 2, levels=len(shapes), version=_version("tensorstore"),
                stages={"read": round(t_read, 3), "wait": round(t_wait, 3), "level0_done": round(t_level0, 3)})


# ----------------------------------------------------------------------------- ngff-zarr

def convert_ngff_zarr(a):
    import dask
    import numcodecs
    import ngff_zarr
    from ngff_zarr import Methods, to_multiscales, to_ngff_zarr
    from ngff_zarr.cli_input_to_ngff_image import cli_input_to_ngff_image
    from ngff_zarr.detect_cli_io_backend import ConversionBackend

    dask.config.set(scheduler="threads", num_workers=a.jobs)
    start = time.perf_counter()
    image = cli_input_to_ngff_image(ConversionBackend.TIFFFILE, [a.tiff])
    shape = tuple(image.data.shape)
    if tuple(image.dims) != ("z", "y", "x"):
        raise SystemExit(f"convert_peers.py: ngff-zarr read dims {image.dims}, expected z, y, x")
    shapes = check_power_of_two_pyramid(shape, a.chunks)
    factors = [2 ** i for i in range(1, len(shapes))]
    ms = to_multiscales(image, scale_factors=factors, method=Methods(a.method), chunks=a.chunks)
    if a.omero:  # what the CLI does by default (approximate 2 % / 98 % quantiles)
        from ngff_zarr.compute_omero import compute_omero_from_multiscales
        ms.metadata.omero = compute_omero_from_multiscales(ms, quantiles=(0.02, 0.98))
    compressor = numcodecs.Blosc(cname=a.cname, clevel=a.clevel, shuffle=numcodecs.Blosc.SHUFFLE)
    to_ngff_zarr(a.out, ms, version=a.ngff, chunks_per_shard=CHUNKS_PER_SHARD if a.ngff == "0.5" else None,
                 compressor=compressor)
    seconds = time.perf_counter() - start
    return dict(seconds=seconds, bytes=int(np.prod(shape)) * 2, levels=len(shapes), version=ngff_zarr.__version__)


# ----------------------------------------------------------------------------- verify

def _codec_summary_v3(meta):
    codecs = meta.get("codecs", [])
    shards = None
    chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
    if codecs and codecs[0]["name"] == "sharding_indexed":
        conf = codecs[0]["configuration"]
        shards, chunks, codecs = chunks, conf["chunk_shape"], conf["codecs"]
    comp = [c for c in codecs if c["name"] not in ("bytes",)]
    return chunks, shards, comp


def verify(a):
    """List the NGFF levels at --out with their layout and pixel checksums."""
    import tensorstore as ts
    out = os.path.abspath(a.out)
    ctx = ts.Context({"data_copy_concurrency": {"limit": a.jobs}, "file_io_concurrency": {"limit": a.jobs},
                      "cache_pool": {"total_bytes_limit": 0}})
    if os.path.exists(os.path.join(out, "zarr.json")):
        attrs = json.load(open(os.path.join(out, "zarr.json"))).get("attributes", {})
        ms = attrs.get("ome", {}).get("multiscales")
        version = attrs.get("ome", {}).get("version")
        fmt = 3
    else:
        attrs = json.load(open(os.path.join(out, ".zattrs")))
        ms = attrs.get("multiscales")
        version = ms[0].get("version") if ms else None
        fmt = 2
    if not ms:
        raise SystemExit("verify: no multiscales")
    levels = []
    for d in ms[0]["datasets"]:
        p = os.path.join(out, d["path"])
        if fmt == 3:
            meta = json.load(open(os.path.join(p, "zarr.json")))
            chunks, shards, comp = _codec_summary_v3(meta)
            spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": p}}
        else:
            meta = json.load(open(os.path.join(p, ".zarray")))
            chunks, shards, comp = meta["chunks"], None, [meta.get("compressor")]
            if meta.get("dimension_separator", ".") != "/":
                comp.append({"dimension_separator": meta.get("dimension_separator", ".")})
            spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": p}}
        arr = ts.open(spec, open=True, read=True, context=ctx).result()
        if arr.dtype != ts.uint16:
            raise SystemExit(f"verify: level {d['path']} has dtype {arr.dtype}")
        shape = tuple(arr.shape)
        total = np.uint64(0)
        step = max(1, (64 << 20) // (2 * shape[1] * shape[2]))  # ~64 MiB slabs
        with np.errstate(over="ignore"):
            for z0 in range(0, shape[0], step):
                slab = arr[z0:min(shape[0], z0 + step)].read().result()
                total += np.sum(slab, dtype=np.uint64)
        levels.append({"path": d["path"], "shape": list(shape), "chunks": chunks, "shards": shards,
                       "codecs": comp, "checksum": int(total)})
    return {"tool": "verify", "zarr_format": fmt, "ngff_version": version, "levels": levels,
            "has_omero": "omero" in (attrs.get("ome", attrs))}


# ----------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="op", required=True)
    for tool in ("tensorstore", "ngff-zarr"):
        p = sub.add_parser(tool)
        p.add_argument("--tiff", required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--ngff", choices=("0.4", "0.5"), required=True)
        p.add_argument("--cname", choices=("zstd", "lz4"), required=True)
        p.add_argument("--clevel", type=int, default=5)
        p.add_argument("--chunks", type=int, default=64)
        p.add_argument("--jobs", type=int, default=os.cpu_count())
        if tool == "ngff-zarr":
            p.add_argument("--method", default="dask_bin_shrink",
                           help="ngff-zarr downsampling method (default dask_bin_shrink; itkwasm_bin_shrink "
                                "and itk_bin_shrink give the same samples)")
        p.add_argument("--no-omero", dest="omero", action="store_false",
                       help="skip the omero window (tensorstore: a histogram of level 0; "
                            "ngff-zarr: compute_omero_from_multiscales, as its CLI does by default)")
    v = sub.add_parser("verify")
    v.add_argument("--out", required=True)
    v.add_argument("--jobs", type=int, default=os.cpu_count())
    a = ap.parse_args(argv)
    if a.op == "verify":
        print(json.dumps(verify(a)), flush=True)
        return 0
    if os.path.exists(a.out):
        raise SystemExit(f"convert_peers.py: {a.out} exists")
    fn = convert_tensorstore if a.op == "tensorstore" else convert_ngff_zarr
    res = fn(a)
    print(json.dumps({"tool": a.op, "op": "convert", "ngff": a.ngff, "cname": a.cname, **res}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
