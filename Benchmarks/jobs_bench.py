#!/usr/bin/env python3
"""`make bench` section `jobs`: bulk conversion as a cluster job, plan → run → report.

    python Benchmarks/jobs_bench.py [--small] [--files N] [--images N] [--tessera PATH] [--no-peer]

Two workloads, both with the release build:
  plan     `tessera plan` over N tiny TIFFs (100,000 by default; 10,000 with --small) in one
           folder tree, --tasks 64: wall time (goal < 60 s) and how even the tasks are by pixel
           bytes (goal: every task within 10 % of the mean).
  job      a mixed collection of M images (200; 40 with --small: tiled TIFF, OME-TIFF, BigTIFF,
           HDF5, FITS, sizes from 0.25 to 16 MiB of pixels, one image big enough to be split)
           through `tessera plan --estimate` (the prediction), `tessera plan --tasks 2`, both
           tasks run side by side with --jobs 1 each (2 cores), and `tessera report --json`:
           CPU-hours per TB of input, objects per TB, output/input bytes, wall time, each next to
           the estimate and its error. The peer: ngff-zarr converting the same TIFF inputs in
           one Python process (tifffile in, 0.5 sharded out, same chunks and codec), CPU
           seconds per GB of pixels against Tessera's for the same inputs (from the report lines).
  slide    one slide-like RGB TIFF of 512² JPEG tiles (16384²; 4096² with --small) through
           `tessera convert` on every core: CPU seconds per GB of pixels, output bytes and
           objects — the per-core figures Docs/cluster.md sizes a 17,000-slide job from.
Inputs are generated once and cached under Benchmarks/.cache/. Results go to
Benchmarks/.cache/last-jobs-bench.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness.process import run_measured  # noqa: E402
from harness.section import Section, run_section  # noqa: E402

CACHE = HERE / ".cache"
TB = 1e12


def structured(shape, dtype, seed):
    """Smooth structure plus noise: compresses like microscopy, not like random bytes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.arange(shape[-2]), np.arange(shape[-1]), indexing="ij")
    base = (np.sin(yy / (17 + seed % 13)) + np.cos(xx / (23 + seed % 7))) * 0.25 + 0.5
    top = np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else 1.0
    img = base * top * 0.6 + rng.normal(0, top * 0.02, size=shape[-2:])
    img = np.broadcast_to(img, shape).copy() if len(shape) > 2 else img
    return np.clip(img, 0, top).astype(dtype)


def make_tiny_tree(root: Path, count: int):
    """`count` 16×16 uint8 TIFFs in folders of 1000 (a stamp file marks it complete)."""
    stamp = root / ".complete"
    if stamp.exists() and stamp.read_text() == str(count):
        return
    import tifffile
    shutil.rmtree(root, ignore_errors=True)
    template = root / "template.tif"
    root.mkdir(parents=True)
    tifffile.imwrite(template, np.arange(256, dtype=np.uint8).reshape(16, 16))
    data = template.read_bytes()
    template.unlink()
    for i in range(count):
        folder = root / f"d{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir()
        (folder / f"img{i:06d}.tif").write_bytes(data)
    stamp.write_text(str(count))


def make_mixed(root: Path, count: int):
    """The mixed collection: every fifth image of each format; the first is the big one."""
    stamp = root / ".complete"
    if stamp.exists() and stamp.read_text() == str(count):
        return
    import h5py
    import tifffile
    from astropy.io import fits
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    sides = [512, 768, 1024, 1536, 2048, 2816]
    for i in range(count):
        side = 6144 if i == 0 else sides[i % len(sides)]
        kind = ("tiff", "ome", "bigtiff", "hdf5", "fits")[i % 5]
        dtype = np.uint8 if i % 7 == 3 else np.uint16
        img = structured((side, side), dtype, i)
        name = root / f"{kind}" / f"image{i:04d}"
        name.parent.mkdir(exist_ok=True)
        if kind == "tiff":
            tifffile.imwrite(f"{name}.tif", img, tile=(256, 256), compression="zlib")
        elif kind == "ome":
            tifffile.imwrite(f"{name}.ome.tif", img, tile=(256, 256), ome=True, metadata={"axes": "YX"})
        elif kind == "bigtiff":
            tifffile.imwrite(f"{name}.btf", img, bigtiff=True, tile=(512, 512))
        elif kind == "hdf5":
            with h5py.File(f"{name}.h5", "w") as f:
                f.create_dataset("data", data=img, chunks=(256, 256))
        else:
            fits.PrimaryHDU(img.astype(np.int16) if dtype == np.uint8 else img).writeto(f"{name}.fits")
    stamp.write_text(str(count))


def make_slide(path: Path, side: int):
    """A brightfield-like slide: tissue blobs with texture on a white background, RGB,
    512² JPEG tiles at quality 80 (how NDPI/SVS scanners store level 0)."""
    if path.exists():
        return
    import tifffile
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    coarse = rng.random((side // 512 + 2, side // 512 + 2))
    mask = np.kron(coarse, np.ones((512, 512)))[:side, :side] > 0.4
    rgb = np.empty((side, side, 3), np.uint8)
    for band in range(0, side, 2048):
        rows = slice(band, min(side, band + 2048))
        tex = structured((rows.stop - rows.start, side), np.uint8, band // 2048).astype(np.int16)
        # cell-scale detail: what makes real tissue cost 1:10-1:15 in JPEG, not 1:90
        tex = np.clip(tex + rng.normal(0, 45, size=tex.shape), 0, 255)
        for c, (lo, hi) in enumerate(((150, 230), (80, 180), (140, 220))):
            tissue = lo + tex.astype(np.uint16) * (hi - lo) // 255
            rgb[rows, :, c] = np.where(mask[rows], tissue, 242).astype(np.uint8)
    tmp = path.with_suffix(".partial")
    tifffile.imwrite(tmp, rgb, tile=(512, 512), compression="jpeg", compressionargs={"level": 80}, photometric="rgb")
    tmp.rename(path)


PEER = r"""
import json, sys, time, resource
import numcodecs, dask, tifffile
from ngff_zarr import to_multiscales, to_ngff_zarr, to_ngff_image
dask.config.set(scheduler="threads", num_workers=int(sys.argv[2]))
out = sys.argv[1]
pixels = 0
for k, path in enumerate(sys.argv[3:]):
    a = tifffile.imread(path)
    pixels += a.nbytes
    ms = to_multiscales(to_ngff_image(a, dims=("y", "x")), scale_factors=[2, 4, 8, 16], chunks=256)
    to_ngff_zarr(f"{out}/{k}.ome.zarr", ms, version="0.5", chunks_per_shard=8,
                 compressor=numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE))
print(json.dumps({"pixel_bytes": pixels}))
"""


class JobsBench(Section):
    def __init__(self, args):
        super().__init__(args)
        self.steps_total = 7 if args.peer else 6

    def tessera(self, *argv, env=None):
        return run_measured([str(self.args.tessera), *map(str, argv)], self.args.timeout, env=env)

    def check(self, what, r):
        if r["rc"] != 0:
            self.failures.append(f"{what}: exit {r['rc']}: {r['stderr'].strip()[-400:]}")
            return False
        return True

    def measure(self):
        CACHE.mkdir(exist_ok=True)
        with self.workdir("jobs-", CACHE) as work:
            self.measure_in(work)

    def conditions(self):
        return f"{os.cpu_count()} CPUs, tessera {self.git or '?'}"

    def measure_in(self, work):
        a = self.args
        self.progress("inputs", f"{a.files} tiny TIFFs, {a.images} mixed images (cached)")
        tiny = CACHE / f"jobs-tiny-{a.files}"
        mixed = CACHE / f"jobs-mixed-{a.images}"
        make_tiny_tree(tiny, a.files)
        make_mixed(mixed, a.images)

        self.progress("plan", f"{a.files} files, 64 tasks")
        job = work / "tiny.json"
        r = self.tessera("plan", tiny, "--output", work / "tiny-out", "--tasks", 64, "-o", job)
        if self.check("plan (tiny)", r):
            m = json.loads(job.read_text())
            shares = [0] * m["tasks"]
            for item in m["inputs"]:
                shares[item["task"]] += item["pixel_bytes"]
            mean = sum(shares) / len(shares)
            self.rows["plan"] = {"files": len(m["inputs"]), "tasks": m["tasks"], "wall_s": r["wall"],
                                 "peak_rss_mib": r["maxrss_kib"] / 1024,
                                 "max_over_mean": max(shares) / mean, "min_over_mean": min(shares) / mean}

        self.progress("plan --estimate", f"{a.images} images, 2 tasks x 1 core")
        est = self.tessera("plan", mixed, "--output", work / "est-out", "--tasks", 2, "--cores", 1,
                           "-o", work / "est.json", "--estimate", "--json")
        estimate = {}
        if self.check("plan --estimate", est):
            e = json.loads(est["stdout"])
            estimate = {"bytes_out": e["output_bytes"], "objects": e["data_objects"], "all_objects": e["objects"], "cpu_hours": e["cpu_hours"],
                        "wall_s": e["wall_hours"] * 3600, "samples": len(e["samples"]), "estimate_wall_s": est["wall"]}

        self.progress("plan + run", f"{a.images} images, 2 tasks side by side, --jobs 1")
        job = work / "mixed.json"
        out = work / "mixed-out"
        if not self.check("plan (mixed)", self.tessera("plan", mixed, "--output", out, "--tasks", 2, "-o", job)):
            return
        started = time.monotonic()
        runs = [subprocess.Popen([sys.executable, "-c", "import json,sys; sys.path.insert(0, sys.argv[1]);"
                                  "from harness.process import run_measured;"
                                  "print(json.dumps(run_measured(sys.argv[3:], float(sys.argv[2]))))",
                                  str(HERE), str(a.timeout), str(a.tessera), "run", str(job), "--task", str(t), "--jobs", "1"],
                                 stdout=subprocess.PIPE, text=True) for t in (0, 1)]
        results = [json.loads(p.communicate()[0]) for p in runs]
        wall = time.monotonic() - started
        for t, res in enumerate(results):
            if res["rc"] != 0:
                self.failures.append(f"run --task {t}: exit {res['rc']}: {res['stderr'].strip()[-400:]}")
        self.progress("report", "--json")
        rep = self.tessera("report", job, "--json")
        if not self.check("report", rep):
            return
        report = json.loads(rep["stdout"])
        measured = {"wall_s": wall, "cpu_s": sum(r["time"].get("user_s", 0) + r["time"].get("sys_s", 0) for r in results),
                    "peak_rss_mib": max(r["maxrss_kib"] for r in results) / 1024,
                    "bytes_in": report["bytes_in"], "bytes_out": report["bytes_out"], "objects": report["objects"],
                    "cpu_hours_per_tb": report["cpu_hours_per_tb"], "objects_per_tb": report["objects_per_tb"],
                    "blowup": report["bytes_out"] / max(1, report["bytes_in"]), "done": report["done"],
                    "failed": report["failed"], "report_cpu_s": report["cpu_s"]}
        self.rows["job"] = measured
        if report["failed"] or report["pending"] or report["running"]:
            self.failures.append(f"job: {report['failed']} failed, {report['pending']} pending, {report['running']} running")
        if estimate:
            self.rows["estimate"] = estimate
        if a.peer:
            self.peer(mixed, work, job)
        self.slide(work)

    def slide(self, work):
        """One slide-like JPEG TIFF through `tessera convert` on every core: the per-core
        figures Docs/cluster.md sizes the 17,000-slide job from."""
        a = self.args
        self.progress("slide", f"{a.slide}² RGB JPEG tiles, tessera convert --jobs {os.cpu_count()}")
        path = CACHE / f"jobs-slide-{a.slide}.tif"
        make_slide(path, a.slide)
        out = work / "slide.ome.zarr"
        r = self.tessera("convert", path, out, "--jobs", os.cpu_count())
        if not self.check("convert (slide)", r):
            return
        files = [p for p in out.rglob("*") if p.is_file()]
        pixels = a.slide * a.slide * 3
        cpu = r["time"].get("user_s", 0) + r["time"].get("sys_s", 0)
        self.rows["slide"] = {"side": a.slide, "pixel_bytes": pixels, "file_bytes": path.stat().st_size,
                              "output_bytes": sum(p.stat().st_size for p in files), "objects": len(files),
                              "cpu_s": cpu, "wall_s": r["wall"], "peak_rss_mib": r["maxrss_kib"] / 1024,
                              "cpu_s_per_gb_pixels": cpu / (pixels / 1e9)}

    def peer(self, mixed, work, job):
        """ngff-zarr over the TIFF inputs, against Tessera's CPU for the same inputs."""
        self.progress("peer", "ngff-zarr over the same TIFFs, one process")
        manifest = json.loads(job.read_text())
        tiffs = sorted(str(p) for p in (mixed / "tiff").glob("*.tif"))
        r = run_measured([sys.executable, "-c", PEER, str(work / "peer-out"), "1", *tiffs], self.args.timeout)
        if not self.check("ngff-zarr peer", r):
            return
        pixels = json.loads(r["stdout"].strip().splitlines()[-1])["pixel_bytes"]
        ours_cpu = 0.0
        wanted = set(tiffs)
        outputs = {i["output"] for i in manifest["inputs"] if i["input"] in wanted}
        for line in self.report_lines(manifest):
            if line.get("output") in outputs and line.get("status") == "done":
                ours_cpu += line.get("cpu_s") or 0
        peer_cpu = r["time"].get("user_s", 0) + r["time"].get("sys_s", 0)
        self.rows["peer"] = {"inputs": len(tiffs), "pixel_gb": pixels / 1e9, "ngff_zarr_cpu_s": peer_cpu,
                             "tessera_cpu_s": ours_cpu, "ratio": peer_cpu / ours_cpu if ours_cpu else None}

    @staticmethod
    def report_lines(manifest):
        lines = []
        for path in Path(manifest["reports"]).rglob("*.jsonl"):
            lines += [json.loads(t) for t in path.read_text().splitlines() if t.strip()]
        return lines

    def table_lines(self):
        lines = []
        p = self.rows.get("plan")
        if p:
            lines += [f"plan: {p['files']} files into {p['tasks']} tasks in {p['wall_s']:.1f} s (goal < 60 s), "
                      f"peak RSS {p['peak_rss_mib']:.0f} MiB; task shares {p['min_over_mean']:.3f}–{p['max_over_mean']:.3f} "
                      f"of the mean (goal within 0.90–1.10)"]
        j, e = self.rows.get("job"), self.rows.get("estimate", {})
        if j:
            def err(key, ours):
                guess = e.get(key)
                return f"{guess:>12.4g} {100 * (guess - ours) / ours:+7.1f} %" if guess and ours else f"{'—':>12} {'':>9}"
            lines += ["", f"job: {j['done']} done, {j['failed']} failed; 2 tasks × 1 core; peak RSS {j['peak_rss_mib']:.0f} MiB",
                      f"{'':24} {'measured':>12} {'estimate':>12} {'error':>9}",
                      f"{'output bytes':24} {j['bytes_out']:>12.4g} " + err("bytes_out", j["bytes_out"]),
                      f"{'chunks and shards':24} {j['objects']:>12.4g} " + err("objects", j["objects"]),
                      f"{'CPU hours':24} {j['cpu_s'] / 3600:>12.4g} " + err("cpu_hours", j["cpu_s"] / 3600),
                      f"{'wall seconds':24} {j['wall_s']:>12.4g} " + err("wall_s", j["wall_s"]),
                      f"{'CPU-hours per TB':24} {j['cpu_hours_per_tb']:>12.4g}",
                      f"{'chunks+shards per TB':24} {j['objects_per_tb']:>12.4g}",
                      f"{'output / input bytes':24} {j['blowup']:>12.3f}"]
        sl = self.rows.get("slide")
        if sl:
            lines += ["", f"slide: {sl['side']}² RGB ({sl['pixel_bytes'] / 1e9:.2f} GB of pixels in {sl['file_bytes'] / 1e6:.0f} MB of JPEG) "
                          f"-> {sl['output_bytes'] / 1e6:.0f} MB in {sl['objects']} objects; {sl['cpu_s']:.1f} CPU s "
                          f"({sl['cpu_s_per_gb_pixels']:.1f} CPU s per GB of pixels), {sl['wall_s']:.1f} s wall, "
                          f"peak RSS {sl['peak_rss_mib']:.0f} MiB"]
        peer = self.rows.get("peer")
        if peer and peer["ratio"]:
            lines += ["", f"peer: ngff-zarr spent {peer['ngff_zarr_cpu_s']:.1f} CPU s on the {peer['inputs']} TIFFs "
                          f"({peer['pixel_gb']:.2f} GB of pixels), Tessera {peer['tessera_cpu_s']:.1f}: "
                          f"Tessera uses {peer['ratio']:.1f}× less CPU"]
        return lines

    def document(self):
        return {"jobs": self.rows}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="10,000 files and 40 images")
    ap.add_argument("--files", type=int, default=None)
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--slide", type=int, default=None, help="side of the slide-like image (16384; 4096 with --small)")
    ap.add_argument("--tessera", type=Path, default=HERE.parent / ".build" / "release" / "tessera")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--no-peer", dest="peer", action="store_false")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    args.files = args.files or (10_000 if args.small else 100_000)
    args.images = args.images or (40 if args.small else 200)
    args.slide = args.slide or (4096 if args.small else 16384)
    return run_section(JobsBench(args), CACHE / "last-jobs-bench.json")


if __name__ == "__main__":
    sys.exit(main())
