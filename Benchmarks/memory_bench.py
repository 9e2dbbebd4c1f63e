#!/usr/bin/env python3
"""The memory section of `make bench` (Docs/bench.md, Docs/convert.md "Memory"): peak RSS
of `tessera convert` as the input grows, and converting to S3 against converting locally.

    python Benchmarks/memory_bench.py [--small] [--sizes 1,4,16] [--no-s3] [--keep-inputs]
                                      [--jobs N] [--tessera PATH] [--json PATH] ...

Job: convert_bench.py's v05-zstd job (NGFF 0.5, default shards of 4 chunks per axis,
64^3 chunks, blosc zstd 5, the full 2x mean pyramid), run by
    .build/release/tessera convert IN OUT --ngff 0.5 --chunks 64 --codec blosc-zstd --level 5 --jobs N
on uint16 tiled TIFF / BigTIFF inputs of 1, 4 and 16 GiB: Z x 2048 x 2048 with Z = 128, 512,
2048 (--small: Z x 512 x 512 with Z = 32, 128, 512, i.e. 16, 64, 256 MiB). The 1 and 4 GiB
inputs are convert_bench.py's (make_input.py's noise, cached in Benchmarks/.cache/); the
largest is generated quickly — the first 16 planes of the same data, repeated — and
deleted after its run (--keep-inputs keeps it). Each run is one process under the harness's
launcher (Benchmarks/harness/process.py): peak RSS = its ru_maxrss, anon = the largest
RssAnon sampled every 10 ms. Outputs go to a temporary folder beside the inputs and are
deleted after each run.

S3: the smallest input converted again to a fresh local moto server (as s3_bench.py and
the conformance tests run it, objects in moto's own memory, not ours), same job.

Goals (the issue's "flat memory"): the largest peak RSS within 15 % of the smallest and
under 300 MiB; converting to S3 within 20 % of converting locally. A run whose output
has the wrong object count (against the same job on the smallest input, local vs S3) fails.

Results: Benchmarks/.cache/last-memory-bench.json.
"""
import argparse
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE))
import convert_bench  # noqa: E402
import make_input  # noqa: E402
from harness.process import run_measured, warm  # noqa: E402
from harness.report import count_objects, format_table  # noqa: E402
from harness.section import Section, add_run_arguments, check_counts, run_section  # noqa: E402

GIB = 2 ** 30
MiB = 2 ** 20
MB = 1e6
SIZES = (1, 4, 16)  # GiB
YX = 2048
SMALL_YX = 512
FLAT_TOLERANCE = 0.15
RSS_LIMIT_MIB = 300
S3_TOLERANCE = 0.20
QUICK_PLANES = 16


def shape_for(gib, small):
    """Z x YX x YX uint16 of `gib` GiB (the small set: 1/64 of that)."""
    yx = SMALL_YX if small else YX
    nbytes = gib * GIB // (64 if small else 1)
    return (nbytes // (yx * yx * 2), yx, yx)


def quick_tiff(shape, cache=CACHE, log=sys.stderr):
    """A large input written at disk speed: make_input's first QUICK_PLANES planes,
    repeated. Same tiling and layout as convert_bench.ensure_tiff's (no checksum sidecar)."""
    import numpy as np
    import tifffile
    path = Path(cache) / ("memory-%s-u16-tile%d-quick.tif" % ("x".join(map(str, shape)), convert_bench.TILE))
    nbytes = int(np.prod(shape)) * 2
    if path.exists() and path.stat().st_size > nbytes:
        return path
    free = shutil.disk_usage(cache).free
    need = int(nbytes * 1.05) + nbytes + 2 * GIB  # the input, then its output
    if free < need:
        raise SystemExit(f"memory_bench: {path.name} and its output need {need / GIB:.1f} GiB free in {cache}, "
                         f"only {free / GIB:.1f} GiB free")
    print(f"memory_bench: generating {path} ({nbytes / MiB:.0f} MiB, BigTIFF, planes repeated) ...",
          file=log, flush=True)
    t0 = time.monotonic()
    planes = list(make_input.iter_planes((QUICK_PLANES,) + tuple(shape[1:])))
    t = convert_bench.TILE

    def tiles():
        for k in range(shape[0]):
            plane = planes[k % QUICK_PLANES]
            for ty in range(0, shape[1], t):
                for tx in range(0, shape[2], t):
                    yield plane[ty:ty + t, tx:tx + t]

    tmp = path.with_name(path.name + ".partial-%d" % os.getpid())
    try:
        with tifffile.TiffWriter(tmp, bigtiff=True) as tw:
            tw.write(tiles(), shape=tuple(shape), dtype="<u2", tile=(t, t), photometric="minisblack",
                     compression=None, metadata={"axes": "ZYX"})
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    print(f"memory_bench: generated in {time.monotonic() - t0:.0f} s", file=log, flush=True)
    return path


class MemoryBench(Section):
    def __init__(self, args):
        super().__init__(args)
        self.runs = []  # one per input size, local
        self.s3 = None

    def command(self, tiff, out):
        a = self.args
        return [str(a.tessera), "convert", str(tiff), str(out), "--ngff", "0.5", "--chunks", str(convert_bench.CHUNK),
                "--codec", "blosc-zstd", "--level", str(convert_bench.CLEVEL), "--jobs", str(a.jobs)]

    def convert(self, what, tiff, shape, out, env=None):
        a = self.args
        warm(tiff)
        if a.sync:
            os.sync()
        child = run_measured(self.command(tiff, out), a.timeout, env=env)
        nbytes = shape[0] * shape[1] * shape[2] * 2
        row = {"shape": list(shape), "bytes": nbytes, "wall": child["wall"], "mb_per_s": nbytes / child["wall"] / MB,
               "peak_rss_mib": child["maxrss_kib"] / 1024, "peak_anon_mib": child["peak_anon_kib"] / 1024,
               "cpu_percent": child["time"].get("cpu_percent"), "rc": child["rc"]}
        if child["rc"] != 0:
            self.progress(what, "failed")
            self.fail(f"{what}: exit status {child['rc']}: {(child['stderr'] or child['stdout']).strip()[-1500:]}")
            return None
        self.progress(what, f"{child['wall']:8.1f} s  {row['mb_per_s']:7.1f} MB/s  rss {row['peak_rss_mib']:6.1f} MiB  "
                            f"anon {row['peak_anon_mib']:6.1f} MiB")
        return row

    def run_s3(self, tiff, shape, local):
        from harness.servers import MotoServer
        bucket = "memory-bench"
        server = MotoServer(log_path=self.outdir / "moto.log")
        try:
            server.create_bucket(bucket)
            env = {**os.environ, **server.env()}
            row = self.convert(f"{shape[0]}x{shape[1]}x{shape[2]} to S3 (moto)", tiff, shape,
                               f"s3://{bucket}/image.ome.zarr", env=env)
            if row is None:
                return
            import boto3
            e = server.env()
            s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=e["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=e["AWS_SECRET_ACCESS_KEY"], region_name=e["AWS_REGION"])
            n = size = 0
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for o in page.get("Contents", []):
                    n += 1
                    size += o["Size"]
            row["objects"], row["out_bytes"] = n, size
            if local and (n, size) != (local["objects"], local["out_bytes"]):
                self.fail(f"S3 output has {n} objects / {size} bytes, the local one {local['objects']} / {local['out_bytes']}")
            if s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
                self.fail("unfinished multipart uploads left in the bucket")
            self.s3 = row
        finally:
            server.stop()

    def measure(self):
        a = self.args
        if not os.access(a.tessera, os.X_OK):
            self.fail(f"{a.tessera} is missing (make release)")
            return
        shapes = [shape_for(g, a.small) for g in a.sizes]
        self.steps_total = len(shapes) + (0 if a.no_s3 else 1)
        with self.workdir("memory-run-", CACHE) as self.outdir:
            for i, (gib, shape) in enumerate(zip(a.sizes, shapes)):
                quick = i == len(shapes) - 1 and gib > 4
                tiff = quick_tiff(shape) if quick else convert_bench.ensure_tiff(shape)[0]
                out = self.outdir / "out.ome.zarr"
                try:
                    row = self.convert("x".join(map(str, shape)), tiff, shape, out)
                    if row:
                        row["gib"] = gib if not a.small else gib / 64
                        row["quick_input"] = quick
                        row["objects"], row["out_bytes"] = count_objects(out)
                        self.runs.append(row)
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                    if quick and not a.keep_inputs:
                        tiff.unlink(missing_ok=True)
                if i == 0 and not a.no_s3:
                    self.run_s3(tiff, shape, row)

    def goals(self):
        g = []
        # --small's inputs (16 MiB up) are smaller than the steady working set (two workers'
        # 16 MiB blocks and what they make), so their memory is not expected to be flat.
        if len(self.runs) >= 2 and not self.args.small:
            rss = [r["peak_rss_mib"] for r in self.runs]
            g.append((f"peak RSS flat: largest / smallest <= {1 + FLAT_TOLERANCE:.2f}", max(rss) / min(rss),
                      max(rss) / min(rss) <= 1 + FLAT_TOLERANCE))
        if self.runs:
            top = max(r["peak_rss_mib"] for r in self.runs)
            g.append((f"peak RSS < {RSS_LIMIT_MIB} MiB at every size (MiB)", top, top < RSS_LIMIT_MIB))
        if self.s3 and self.runs:
            ratio = self.s3["peak_rss_mib"] / self.runs[0]["peak_rss_mib"]
            g.append((f"S3 peak RSS / local <= {1 + S3_TOLERANCE:.2f}", ratio, ratio <= 1 + S3_TOLERANCE))
        return g

    def table_lines(self):
        if self.args.small:
            self.note("--small: the flatness goal is not judged (the inputs are smaller than one working set)")
        lines = [f"Memory: tessera convert NGFF 0.5 (default shards), 64^3 chunks, blosc zstd 5, {self.conditions()}",
                 "peak RSS = ru_maxrss of the process (MiB); anon = sampled peak RssAnon (MiB)"]
        hdr = ("input", "GiB", "to", "wall s", "MB/s", "peak RSS", "anon", "objects")
        rows = [("x".join(map(str, r["shape"])) + (" (planes repeated)" if r.get("quick_input") else ""),
                 f"{r['bytes'] / GIB:.3g}", "local", f"{r['wall']:.1f}", f"{r['mb_per_s']:.1f}",
                 f"{r['peak_rss_mib']:.0f}", f"{r['peak_anon_mib']:.0f}", str(r.get("objects", ""))) for r in self.runs]
        if self.s3:
            r = self.s3
            rows.append(("x".join(map(str, r["shape"])), f"{r['bytes'] / GIB:.3g}", "S3 (moto)", f"{r['wall']:.1f}",
                         f"{r['mb_per_s']:.1f}", f"{r['peak_rss_mib']:.0f}", f"{r['peak_anon_mib']:.0f}",
                         str(r.get("objects", ""))))
        lines += format_table(hdr, rows, {1, 3, 4, 5, 6, 7})
        goals = self.goals()
        if goals:
            lines.append("")
            lines.append("Goals (issue 18, must show 1 and 4):")
            for name, v, ok in goals:
                lines.append(f"  {'met ' if ok else 'MISS'}  {name}: {v:.2f}")
        return lines

    def document(self):
        return {"tessera": str(self.args.tessera), "jobs": self.args.jobs, "local": self.runs, "s3": self.s3,
                "goals": [{"goal": n, "value": v, "met": ok} for n, v, ok in self.goals()], "notes": self.notes}


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="1/64 of each size (16, 64, 256 MiB)")
    ap.add_argument("--sizes", type=lambda s: tuple(int(v) for v in s.split(",")), default=SIZES,
                    help="input sizes in GiB, comma-separated (default 1,4,16)")
    ap.add_argument("--no-s3", action="store_true", help="skip the conversion to the local S3 server")
    ap.add_argument("--keep-inputs", action="store_true", help="keep the quickly generated largest input")
    add_run_arguments(ap, CACHE / "last-memory-bench.json", keep=False)
    return ap


def main(argv=None):
    ap = build_parser()
    args = ap.parse_args(argv)
    args.keep = False
    check_counts(ap, args)
    if not args.sizes or min(args.sizes) < 1:
        ap.error("--sizes wants positive GiB counts")
    args.sizes = tuple(sorted(args.sizes))
    return run_section(MemoryBench(args), args.json)


if __name__ == "__main__":
    sys.exit(main())
