#!/usr/bin/env python3
"""`make bench`, section `durability`: what fsync costs, and copy's decodes counted.

    python Benchmarks/durability_bench.py [--small] [--tessera PATH] [--jobs N] [--repeat N]
                                          [--timeout S] [--no-sync] [--keep]

1. fsync on/off: `tessera convert` of the standard bench input (the 1 GiB tiled TIFF of
   Benchmarks/convert_bench.py, 128x2048x2048 uint16; --small: 32x512x512) to NGFF 0.5,
   once as is (every object fdatasync'ed before its rename, folders fsync'ed before each
   metadata document: Docs/convert.md, "Durability") and once with --no-fsync. Wall
   seconds of each (best of --repeat), the difference and the ratio. Dirty pages are
   flushed with sync(2) off the clock before each run (unless --no-sync), so neither run
   pays for the other's writes; a --no-fsync run leaves its data in the page cache.
2. copy decodes: the 4 GiB BigTIFF of the memory check (512x2048x2048; --small:
   64x512x512) converted to a sharded NGFF 0.5 image (default 256^3 shards of 64^3 inner
   chunks), then `tessera copy --zarr-format 2 --chunks 32,32,32` (each inner chunk feeds
   8 destination chunks). The copy's summary says how many source chunks it decoded; the
   bench counts the stored inner chunks from every shard's index and requires equality.

Results go to Benchmarks/.cache/last-durability-bench.json. Exit status 1 if a run fails
or the decode count differs.
"""
import argparse
import json
import os
import re
import shutil
import struct
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from convert_bench import DEFAULT_SHAPE, MEMCHECK_SHAPE, MEMCHECK_SMALL_SHAPE, SMALL_SHAPE, ensure_tiff  # noqa: E402
from harness.process import run_measured, warm  # noqa: E402
from harness.report import format_table, git_describe, run_header, write_json  # noqa: E402

DECODED = re.compile(r"(\d+) source chunks decoded")
EMPTY = 2 ** 64 - 1


def stored_inner_chunks(image: Path) -> int:
    """Inner chunks stored in every shard of every sharded array under `image`, counted
    from the shard indexes (bytes + crc32c, at the end: what Tessera writes)."""
    total = 0
    for meta_path in image.rglob("zarr.json"):
        meta = json.loads(meta_path.read_text())
        if meta.get("node_type") != "array":
            continue
        shard = [c for c in meta["codecs"] if c["name"] == "sharding_indexed"]
        if not shard:
            continue
        cfg = shard[0]["configuration"]
        outer = meta["chunk_grid"]["configuration"]["chunk_shape"]
        per_shard = 1
        for o, i in zip(outer, cfg["chunk_shape"]):
            per_shard *= -(-o // i)
        index_bytes = per_shard * 16 + 4
        for f in (meta_path.parent / "c").rglob("*"):
            if not f.is_file() or f.name.startswith("."):
                continue
            with open(f, "rb") as fh:
                fh.seek(-index_bytes, os.SEEK_END)
                index = fh.read(index_bytes - 4)
            entries = struct.unpack("<%dQ" % (2 * per_shard), index)
            total += sum(1 for k in range(per_shard) if entries[2 * k] != EMPTY or entries[2 * k + 1] != EMPTY)
    return total


def run(cmd, args):
    if args.sync:
        os.sync()
    child = run_measured([str(c) for c in cmd], args.timeout)
    if child["rc"] != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {child['rc']}: {child['stderr'][-1500:]}")
    return child


def fsync_cost(args, work: Path) -> dict:
    shape = SMALL_SHAPE if args.small else DEFAULT_SHAPE
    tiff, _ = ensure_tiff(shape)
    warm(tiff)
    nbytes = shape[0] * shape[1] * shape[2] * 2
    walls = {}
    for mode, extra in (("fsync", []), ("no-fsync", ["--no-fsync"])):
        best = None
        for _ in range(args.repeat):
            out = work / f"convert-{mode}.ome.zarr"
            shutil.rmtree(out, ignore_errors=True)
            child = run([args.tessera, "convert", tiff, out, "--jobs", args.jobs, *extra], args)
            best = child["wall"] if best is None else min(best, child["wall"])
            shutil.rmtree(out, ignore_errors=True)
        walls[mode] = best
    return {"shape": list(shape), "bytes": nbytes, "wall_fsync_s": walls["fsync"], "wall_no_fsync_s": walls["no-fsync"],
            "cost_s": walls["fsync"] - walls["no-fsync"], "ratio": walls["fsync"] / max(walls["no-fsync"], 1e-9)}


def copy_decodes(args, work: Path) -> dict:
    shape = MEMCHECK_SMALL_SHAPE if args.small else MEMCHECK_SHAPE
    tiff, _ = ensure_tiff(shape)
    src, dst = work / "copy-src.ome.zarr", work / "copy-dst.zarr"
    run([args.tessera, "convert", tiff, src, "--jobs", args.jobs, "--no-fsync"], args)
    stored = stored_inner_chunks(src)
    child = run([args.tessera, "copy", src, dst, "--zarr-format", "2", "--chunks", "32,32,32", "--jobs", args.jobs, "--no-fsync"], args)
    m = DECODED.search(child["stderr"] + child["stdout"])
    decoded = int(m.group(1)) if m else None
    return {"shape": list(shape), "bytes": shape[0] * shape[1] * shape[2] * 2, "stored_inner_chunks": stored,
            "decoded": decoded, "wall_s": child["wall"], "peak_rss_mib": child["maxrss_kib"] / 1024}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="32x512x512 and 64x512x512 instead of 1 GiB and 4 GiB")
    ap.add_argument("--tessera", type=Path, default=REPO / ".build" / "release" / "tessera")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=1, help="fsync on/off runs each; the best wall is kept")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--no-sync", dest="sync", action="store_false", help="do not sync(2) before each run")
    ap.add_argument("--keep", action="store_true", help="keep the copy's source and destination (path printed)")
    ap.add_argument("--json", type=Path, default=HERE / ".cache" / "last-durability-bench.json")
    args = ap.parse_args(argv)
    (HERE / ".cache").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="durability-bench-", dir=HERE / ".cache"))
    rc = 0
    doc = {**run_header(git_describe()), "section": "durability"}
    try:
        f = doc["fsync"] = fsync_cost(args, work)
        d = doc["copy_decodes"] = copy_decodes(args, work)
    except RuntimeError as e:
        print(f"durability: FAILED: {e}", flush=True)
        return 1
    finally:
        if args.keep:
            print(f"durability: outputs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("durability: cost of fsync, tessera convert of %s uint16 (%.0f MiB), wall s" % ("x".join(map(str, f["shape"])), f["bytes"] / 2 ** 20))
    for line in format_table(["mode", "wall s", "MB/s"],
                             [["fsync (default)", "%.2f" % f["wall_fsync_s"], "%.0f" % (f["bytes"] / f["wall_fsync_s"] / 1e6)],
                              ["--no-fsync", "%.2f" % f["wall_no_fsync_s"], "%.0f" % (f["bytes"] / f["wall_no_fsync_s"] / 1e6)]],
                             right={1, 2}, group=False):
        print(line)
    print("fsync costs %+.2f s (x%.2f)" % (f["cost_s"], f["ratio"]))
    ok = d["decoded"] == d["stored_inner_chunks"]
    print("\ndurability: tessera copy of a sharded %s uint16 image (%.0f MiB, 64^3 inner chunks) to 32^3 v2 chunks: "
          "%s source chunks decoded, %d stored -> %s (%.1f s, peak RSS %.0f MiB)"
          % ("x".join(map(str, d["shape"])), d["bytes"] / 2 ** 20, d["decoded"], d["stored_inner_chunks"],
             "each decoded once" if ok else "MISMATCH", d["wall_s"], d["peak_rss_mib"]))
    if not ok:
        rc = 1
    write_json(args.json, doc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
