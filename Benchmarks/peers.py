#!/usr/bin/env python3
"""The peers' side of `make bench`: the same job as tessera-bench, done with zarr-python 3
or tensorstore, with the same command line and the same one-line JSON output.

    python peers.py write --tool zarr-python|tensorstore --raw FILE --shape Z,Y,X \\
                          --layout LAYOUT --out DIR [--jobs N]
    python peers.py read  --tool zarr-python|tensorstore --out DIR [--jobs N]

write: map the raw little-endian uint16 C-order FILE (np.memmap), delete DIR, write the
       whole array to DIR in LAYOUT; prints
       {"tool":T,"op":"write","layout":L,"seconds":S,"bytes":B,...}
read:  read the whole array at DIR into memory; prints
       {"tool":T,"op":"read","seconds":S,"bytes":B,"checksum":C,...}
       where C is the sum of all uint16 values as a wrapping unsigned 64-bit integer.

As in tessera-bench, "seconds" excludes process start-up (imports), mapping the input and
deleting DIR, and includes creating the array (metadata) and all chunk I/O. The read
checksum is computed after the clock stops.

Layouts (identical to tessera-bench's):
  v3-blosc-zstd-sharded  Zarr v3, shard (64,512,512), inner chunks (64,64,64), inner codecs
                         bytes(little) + blosc(zstd, clevel 5, shuffle, typesize 2,
                         blocksize 0), index codecs bytes(little) + crc32c at the end, fill 0
  v2-blosc-lz4           Zarr v2, chunks (64,64,64), blosc(lz4, clevel 5, shuffle 1,
                         blocksize 0), no filters, dimension_separator "/", order C, fill 0

Concurrency: each tool gets --jobs (default: os.cpu_count()) worker threads in total:
  zarr-python  threading.max_workers = jobs (the pool that runs blosc and the file I/O),
               async.concurrency = 2*jobs (tasks in flight), numcodecs blosc forced to
               its single-threaded context API so there are no extra blosc threads.
  tensorstore  data_copy_concurrency = jobs (encode/decode), file_io_concurrency = jobs,
               file_io_sync = false (tessera-bench does not fsync either), no cache pool.
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

LAYOUTS = ("v3-blosc-zstd-sharded", "v2-blosc-lz4")
TOOLS = ("zarr-python", "tensorstore")
CHUNK = (64, 64, 64)
SHARD = (64, 512, 512)

# Blosc settings per layout (the single source of truth for both peers).
BLOSC = {
    "v3-blosc-zstd-sharded": dict(cname="zstd", clevel=5, shuffle="shuffle", typesize=2, blocksize=0),
    "v2-blosc-lz4": dict(cname="lz4", clevel=5, shuffle=1, blocksize=0),
}


def checksum(a):
    """Sum of all uint16 values as a wrapping uint64 (numpy uint64 addition wraps)."""
    flat = a.reshape(-1)
    total = np.uint64(0)
    step = 1 << 24
    with np.errstate(over="ignore"):
        for i in range(0, flat.size, step):
            total += np.sum(flat[i:i + step], dtype=np.uint64)
    return int(total)


def open_input(raw, shape):
    mm = np.memmap(raw, dtype="<u2", mode="r", shape=tuple(shape), order="C")
    return mm


def remove(path):
    if os.path.lexists(path):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


# ----------------------------------------------------------------------------- zarr-python

def zarr_setup(jobs):
    import numcodecs
    import numcodecs.blosc
    import zarr

    # One pool of `jobs` threads runs every blosc call and every file read/write. Blosc
    # must not add threads of its own: numcodecs uses blosc's single-threaded _ctx API
    # when use_threads is False.
    numcodecs.blosc.use_threads = False
    numcodecs.blosc.set_nthreads(1)
    zarr.config.set({
        "threading.max_workers": jobs,
        "async.concurrency": 2 * jobs,
        "array.write_empty_chunks": True,  # tessera writes every chunk; skip the all-fill scan
    })
    return zarr, numcodecs


def zarr_write(raw, shape, layout, out, jobs, storage_options=None):
    """Writes the input to `out`: a folder, or with `storage_options` (s3fs's) an s3:// URL."""
    zarr, numcodecs = zarr_setup(jobs)
    from zarr.codecs import BloscCodec, BytesCodec
    from zarr.storage import LocalStore

    src = open_input(raw, shape)
    remote = {} if storage_options is None else {"storage_options": storage_options}
    if not remote:
        remove(out)
    start = time.perf_counter()
    store = out if remote else LocalStore(out)
    if layout == "v3-blosc-zstd-sharded":
        arr = zarr.create_array(
            store, shape=shape, dtype="uint16", chunks=CHUNK, shards=SHARD,
            serializer=BytesCodec(endian="little"),
            compressors=BloscCodec(**BLOSC[layout]),
            fill_value=0, zarr_format=3, overwrite=True, **remote,  # C order is zarr-python's default
        )
        step = SHARD[0]
    else:
        arr = zarr.create_array(
            store, shape=shape, dtype="uint16", chunks=CHUNK,
            compressors=numcodecs.Blosc(**BLOSC[layout]), filters=None,
            chunk_key_encoding={"name": "v2", "separator": "/"},
            fill_value=0, zarr_format=2, order="C", overwrite=True, **remote,
        )
        step = CHUNK[0]
    # One slab of whole shards (v3) / whole chunks (v2) per call: every chunk write is a
    # full overwrite (no read-modify-write) and at most one slab is in flight, which keeps
    # zarr-python's memory bounded; as fast as arr[:] = src in our measurements.
    for z in range(0, shape[0], step):
        arr[z:z + step] = src[z:z + step]
    seconds = time.perf_counter() - start
    return dict(seconds=seconds, bytes=int(np.prod(shape)) * 2)


def zarr_read(out, jobs):
    zarr, _ = zarr_setup(jobs)
    start = time.perf_counter()
    arr = zarr.open_array(out, mode="r")
    data = arr[...]
    seconds = time.perf_counter() - start
    return data, seconds


# ----------------------------------------------------------------------------- tensorstore

def _ts_context(jobs, s3=False):
    import tensorstore as ts
    io = {"s3_request_concurrency": {"limit": 2 * jobs}} if s3 else \
        {"file_io_concurrency": {"limit": jobs}, "file_io_sync": False}
    return ts, ts.Context({
        "data_copy_concurrency": {"limit": jobs},
        **io,
        "cache_pool": {"total_bytes_limit": 0},
    })


def _ts_spec(layout, shape, kvstore):
    b = BLOSC[layout]
    if layout == "v3-blosc-zstd-sharded":
        return {
            "driver": "zarr3",
            "kvstore": kvstore,
            "metadata": {
                "shape": list(shape),
                "data_type": "uint16",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(SHARD)}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 0,
                "codecs": [{
                    "name": "sharding_indexed",
                    "configuration": {
                        "chunk_shape": list(CHUNK),
                        "codecs": [
                            {"name": "bytes", "configuration": {"endian": "little"}},
                            {"name": "blosc", "configuration": dict(b)},
                        ],
                        "index_codecs": [
                            {"name": "bytes", "configuration": {"endian": "little"}},
                            {"name": "crc32c"},
                        ],
                        "index_location": "end",
                    },
                }],
            },
        }
    return {
        "driver": "zarr",
        "kvstore": kvstore,
        "key_encoding": "/",
        "metadata": {
            "zarr_format": 2,
            "shape": list(shape),
            "chunks": list(CHUNK),
            "dtype": "<u2",
            "compressor": {"id": "blosc", **b},
            "filters": None,
            "fill_value": 0,
            "order": "C",
            "dimension_separator": "/",
        },
    }


def ts_write(raw, shape, layout, out, jobs, kvstore=None):
    """Writes the input to the folder `out`, or to `kvstore` (e.g. tensorstore's s3 one)."""
    ts, ctx = _ts_context(jobs, s3=kvstore is not None)
    src = open_input(raw, shape)
    if kvstore is None:
        remove(out)
        kvstore = {"driver": "file", "path": os.path.abspath(out)}
    start = time.perf_counter()
    spec = _ts_spec(layout, shape, kvstore)
    arr = ts.open(spec, create=True, delete_existing=True, context=ctx).result()
    # The whole memmap in one write: tensorstore splits it into whole chunks / shards
    # itself and bounds the work in flight by its concurrency limits. The source is a
    # read-only mapping nobody modifies, so tensorstore may reference it without copying.
    arr.write(src, can_reference_source_data_indefinitely=True).result()
    seconds = time.perf_counter() - start
    return dict(seconds=seconds, bytes=int(np.prod(shape)) * 2)


def ts_read(out, jobs):
    ts, ctx = _ts_context(jobs)
    start = time.perf_counter()
    path = os.path.abspath(out)
    driver = "zarr3" if os.path.exists(os.path.join(path, "zarr.json")) else "zarr"
    arr = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": path}},
                  open=True, read=True, context=ctx).result()
    data = arr.read().result()
    seconds = time.perf_counter() - start
    return data, seconds


# ----------------------------------------------------------------------------- CLI

def version(tool):
    from importlib.metadata import version as v
    return v("zarr" if tool == "zarr-python" else "tensorstore")


def parse_shape(text):
    shape = tuple(int(v) for v in text.split(","))
    if len(shape) != 3 or min(shape) <= 0:
        raise argparse.ArgumentTypeError(f"--shape wants Z,Y,X, got {text!r}")
    return shape


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="op", required=True)
    w = sub.add_parser("write")
    w.add_argument("--tool", choices=TOOLS, required=True)
    w.add_argument("--raw", required=True)
    w.add_argument("--shape", type=parse_shape, required=True)
    w.add_argument("--layout", choices=LAYOUTS, required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--jobs", type=int, default=os.cpu_count())
    r = sub.add_parser("read")
    r.add_argument("--tool", choices=TOOLS, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--jobs", type=int, default=os.cpu_count())
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")

    if args.op == "write":
        fn = zarr_write if args.tool == "zarr-python" else ts_write
        res = fn(args.raw, args.shape, args.layout, args.out, args.jobs)
        line = {"tool": args.tool, "op": "write", "layout": args.layout, **res}
    else:
        fn = zarr_read if args.tool == "zarr-python" else ts_read
        data, seconds = fn(args.out, args.jobs)
        if data.dtype != np.dtype("uint16"):
            print(f"peers.py: {args.tool} read dtype {data.dtype}, expected uint16", file=sys.stderr)
            return 1
        data = np.ascontiguousarray(data)
        line = {"tool": args.tool, "op": "read", "seconds": seconds, "bytes": int(data.nbytes),
                "checksum": checksum(data), "shape": list(data.shape)}
    line["version"] = version(args.tool)
    line["jobs"] = args.jobs
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
