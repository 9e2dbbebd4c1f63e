#!/usr/bin/env python3
"""`make bench` section `slide`: a whole-slide image converted by Tessera and by a peer script.

    python Benchmarks/slide_bench.py [--small | --size WxH] [--tessera PATH] [--jobs N]
                                     [--reader openslide|tiffslide] [--no-peer] [--keep]
                                     [--convert-flags "--codec zstd ..."] [--lossy [Q]]

Input: the SVS of Benchmarks/make_slide.py, 32768×24576 RGB (2.4 GB of pixels) in 256²
JPEG tiles at Q90 with its pyramid, label, macro and thumbnail (generated once, cached;
--small: 8192×6144). The job, for both tools: level 0 and the full 2× mean pyramid as NGFF
0.5 with Tessera's defaults for 8-bit RGB (chunks 3×256×256, shards 3×2048×2048, blosc-zstd
level 1; Docs/convert.md, "Codecs for slides").
  tessera  `tessera convert SLIDE.svs OUT --jobs N` (defaults otherwise; --convert-flags
           adds flags, e.g. to try other settings or to give an older build the defaults). Which reader
           opened the slide is read back from the output (`tessera.source.format`): `slide`
           (OpenSlide) once that reader is merged; before, Tessera opens an SVS as the TIFF
           it is and converts page 0 (the same JPEG tiles, decoded by libtiff + libjpeg to
           the same pixels): the table says which.
  peer     Benchmarks/slide_peer.py: openslide-python (or tiffslide) reading level 0 in
           2048² regions on N threads + tensorstore writing the same levels, chunks, shards
           and codec (read from Tessera's output), omero windows too.
  lossy    (--lossy [Q], default Q 90) one more Tessera run with the lossy opt-in,
           `--ngff 0.4 --codec jpeg --level Q` (Docs/convert.md, "Lossy JPEG"): its row,
           and its PSNR against Tessera's lossless level 0 (the slide's own pixels), read
           band by band with zarr-python + imagecodecs.
Each is measured as a process: wall s, CPU s (user + sys), CPU seconds per gigapixel of
level 0, peak RSS, output bytes / input bytes (input = the .svs file) and objects (files).
The outputs are compared: same levels and shapes, every level but 0 equal, level 0 equal
in 16 sampled 512² windows. Ratios against the peer, with the goals of Docs/bench.md
("Slides"): ≥ 3× the peer's gigapixels per CPU-second, ≤ ½ its peak RSS, output ≤ 3× the
JPEG input. And the extrapolation to the reported job
(17,000 NDPI slides, 20 TB in; 860 CPU-days, 200 TB out, ~90 M objects), scaled by input
bytes. Results go to Benchmarks/.cache/last-slide-bench.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_slide  # noqa: E402
from harness.process import run_measured, warm  # noqa: E402
from harness.report import count_objects, format_table  # noqa: E402
from harness.section import Section, run_section  # noqa: E402

CACHE = HERE / ".cache"
SMALL_SIZE = (8192, 6144)
# The job users reported (issue 17): 17,000 NDPI slides, 20 TB, 860 CPU-days, 200 TB out, ~90 M objects.
REPORTED = {"slides": 17_000, "input_tb": 20.0, "cpu_days": 860.0, "output_tb": 200.0, "objects": 90e6}
GOALS = {"speed": 3.0, "rss": 0.5, "blowup": 3.0}


def extrapolate(row, input_bytes):
    """The reported job's figures from one run's, scaled by input bytes."""
    scale = REPORTED["input_tb"] * 1e12 / input_bytes
    return {"cpu_days": row["cpu_s"] * scale / 86400, "output_tb": row["output_bytes"] * scale / 1e12,
            "objects": row["objects"] * scale}


def main_image(out):
    """The slide's NGFF image in an output: the root, or `0` when the root is a
    bioformats2raw layout (the slide reader writes label, macro and thumbnail beside it)."""
    try:
        if (out / ".zattrs").exists():  # NGFF 0.4 (the lossy row)
            attrs = json.loads((out / ".zattrs").read_text())
        else:
            attrs = json.loads((out / "zarr.json").read_text()).get("attributes", {})
    except (OSError, ValueError):
        return out
    layout = attrs.get("ome", attrs).get("bioformats2raw.layout")
    return out / "0" if layout is not None else out


def sampled_equal(a_path, b_path, rng_seed=17, windows=16, side=512):
    """(equal, what differs): the two outputs have the same levels and shapes, levels 1…
    are equal whole, level 0 in `windows` seeded windows."""
    import warnings
    import zarr
    warnings.filterwarnings("ignore", message=".*not recognized as a component of a Zarr hierarchy")  # Tessera's mark
    a, b = zarr.open_group(str(a_path), mode="r"), zarr.open_group(str(b_path), mode="r")
    ka, kb = sorted(a.array_keys(), key=int), sorted(b.array_keys(), key=int)
    if ka != kb:
        return False, f"levels {ka} vs {kb}"
    for k in ka:
        if a[k].shape != b[k].shape:
            return False, f"level {k} shape {a[k].shape} vs {b[k].shape}"
    for k in ka[1:]:
        if not np.array_equal(a[k][:], b[k][:]):
            return False, f"level {k} differs"
    rng = np.random.default_rng(rng_seed)
    _, h, w = a["0"].shape
    for _ in range(windows):
        y, x = int(rng.integers(0, max(1, h - side))), int(rng.integers(0, max(1, w - side)))
        if not np.array_equal(a["0"][:, y:y + side, x:x + side], b["0"][:, y:y + side, x:x + side]):
            return False, f"level 0 differs in the window at y={y}, x={x}"
    return True, ""


def level0_psnr(lossy_image, reference_image, band=512):
    """PSNR (dB) of the lossy output's level 0 against the reference's, over the whole
    level, read in bands of rows so neither is ever whole in memory."""
    import warnings

    import imagecodecs.numcodecs
    import zarr
    warnings.filterwarnings("ignore", message=".*not recognized as a component of a Zarr hierarchy")
    imagecodecs.numcodecs.register_codecs(verbose=False)  # zarr-python reads imagecodecs_jpeg only after this
    a, b = zarr.open_array(str(lossy_image / "0"), mode="r"), zarr.open_array(str(reference_image / "0"), mode="r")
    if a.shape != b.shape:
        raise SystemExit(f"slide_bench: lossy level 0 is {a.shape}, the lossless one {b.shape}")
    squared, count = 0, 0
    for y in range(0, a.shape[1], band):
        d = a[:, y:y + band, :].astype(np.int32) - b[:, y:y + band, :].astype(np.int32)
        squared += int(np.einsum("ijk,ijk->", d, d, dtype=np.int64))
        count += d.size
    mse = squared / count
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


class SlideBench(Section):
    def __init__(self, args):
        super().__init__(args)
        self.steps_total = (4 if args.peer else 2) + (2 if args.lossy else 0)
        self.input = {}
        self.reader = None

    def conditions(self):
        return f"jobs={self.args.jobs}, {os.cpu_count()} CPUs, tessera {self.git or '?'}"

    def measure(self):
        a = self.args
        self.progress("input", f"{a.size[0]}x{a.size[1]} SVS (cached in Benchmarks/.cache)")
        slide = make_slide.ensure(a.size, progress=True)
        for problem in make_slide.check(slide):
            self.fail(f"the input is not the slide OpenSlide should see: {problem}")
        import tifffile
        with tifffile.TiffFile(slide) as t:
            p = t.pages[0]
            self.input = {"path": str(slide), "file_bytes": slide.stat().st_size, "width": p.imagewidth,
                          "height": p.imagelength, "level0_jpeg_bytes": int(sum(p.databytecounts))}
        warm(slide)
        CACHE.mkdir(exist_ok=True)
        with self.workdir("slide-", CACHE) as work:
            self.progress("tessera", f"tessera convert {slide.name} --jobs {a.jobs}")
            out = work / "tessera.ome.zarr"
            r = run_measured([str(a.tessera), "convert", str(slide), str(out), "--jobs", str(a.jobs), *a.convert_flags.split()],
                             a.timeout)
            if r["rc"] != 0:
                self.fail(f"tessera convert: exit {r['rc']}: {r['stderr'].strip()[-600:]}")
                return
            self.rows["tessera"] = self.row(r, out)
            self.reader = self.source_format(out)
            if self.reader != "slide":
                self.note(f"Tessera read the SVS with its {self.reader or '?'} reader (page 0: the same JPEG tiles and "
                          "pixels), not OpenSlide: the slide reader is not in this build")
            if a.lossy:
                self.measure_lossy(slide, out, work)
            if not a.peer:
                return
            codec, chunk, shard = self.level0_layout(out)
            self.progress("peer", f"{a.reader}-python + tensorstore, {a.jobs} threads")
            peer_out = work / "peer.ome.zarr"
            r = run_measured([sys.executable, str(HERE / "slide_peer.py"), "--slide", str(slide), "--out", str(peer_out),
                              "--reader", a.reader, "--jobs", str(a.jobs), "--codec", json.dumps(codec),
                              "--chunk-c", str(chunk[0]), "--chunk", str(chunk[1]), "--shard", str(shard[1])], a.timeout)
            if r["rc"] != 0:
                self.fail(f"peer: exit {r['rc']}: {r['stderr'].strip()[-600:]}")
                return
            self.rows["peer"] = self.row(r, peer_out)
            self.progress("compare", "same levels; levels 1… whole, level 0 in 16 windows")
            same, why = sampled_equal(main_image(out), peer_out)
            if not same:
                self.fail(f"the outputs differ: {why}")

    def measure_lossy(self, slide, lossless, work):
        a = self.args
        flags = ["--ngff", "0.4", "--codec", "jpeg", "--level", str(a.lossy)]
        self.progress("lossy", f"tessera convert {slide.name} {' '.join(flags)} --jobs {a.jobs}")
        out = work / "lossy.ome.zarr"
        r = run_measured([str(a.tessera), "convert", str(slide), str(out), "--jobs", str(a.jobs), *flags], a.timeout)
        if r["rc"] != 0:
            self.fail(f"tessera convert {' '.join(flags)}: exit {r['rc']}: {r['stderr'].strip()[-600:]}")
            return
        row = self.row(r, out)
        self.progress("psnr", "lossy level 0 against the lossless level 0, whole, band by band")
        row["quality"] = a.lossy
        row["psnr_level0_db"] = level0_psnr(main_image(out), main_image(lossless))
        self.rows["lossy"] = row

    def row(self, r, out):
        objects, size = count_objects(out)
        cpu = r["time"].get("user_s", 0) + r["time"].get("sys_s", 0)
        gpx = self.input["width"] * self.input["height"] / 1e9
        return {"wall_s": r["wall"], "cpu_s": cpu, "cpu_s_per_gigapixel": cpu / gpx, "gigapixels_per_cpu_s": gpx / cpu if cpu else None,
                "peak_rss_mib": r["maxrss_kib"] / 1024, "output_bytes": size, "objects": objects,
                "out_over_in": size / self.input["file_bytes"]}

    @staticmethod
    def source_format(out):
        try:
            attrs = json.loads((main_image(out) / "zarr.json").read_text())["attributes"]
            return attrs["tessera"]["source"]["format"]
        except (OSError, KeyError, ValueError, TypeError):
            return None

    @staticmethod
    def level0_layout(out):
        """Level 0's bytes→bytes codec inside the shards, inner chunk and shard shapes (what
        the peer is asked to write)."""
        meta = json.loads((main_image(out) / "0" / "zarr.json").read_text())
        shard = meta["chunk_grid"]["configuration"]["chunk_shape"]
        sharding = meta["codecs"][0]
        if sharding["name"] != "sharding_indexed":
            raise SystemExit("slide_bench: Tessera's level 0 is not sharded; the peer writes shards")
        rest = [c for c in sharding["configuration"]["codecs"] if c["name"] not in ("bytes", "transpose")]
        return (rest[0] if rest else None), sharding["configuration"]["chunk_shape"], shard

    def table_lines(self):
        i = self.input
        if not i:
            return []
        gpx = i["width"] * i["height"] / 1e9
        lines = [f"slide: {i['width']}x{i['height']} RGB, {gpx:.2f} gigapixels ({3 * gpx:.2f} GB of pixels), "
                 f".svs {i['file_bytes'] / 1e6:.0f} MB (level 0 JPEG {i['level0_jpeg_bytes'] / 1e6:.0f} MB); {self.conditions()}"]
        header = ["tool", "wall s", "CPU s", "CPU s / Gpx", "peak RSS MiB", "out / in bytes", "objects"]
        rows = []
        names = {"tessera": f"tessera ({self.reader or '?'} reader)", "peer": f"{self.args.reader}+tensorstore",
                 "lossy": f"tessera --codec jpeg {self.args.lossy}"}
        for key in ("tessera", "lossy", "peer"):
            r = self.rows.get(key)
            if r:
                rows.append([names[key], f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}", f"{r['cpu_s_per_gigapixel']:.1f}",
                             f"{r['peak_rss_mib']:.0f}", f"{r['out_over_in']:.2f}", str(r["objects"])])
        lines += format_table(header, rows, right=set(range(1, 7)), group=False)
        t, p = self.rows.get("tessera"), self.rows.get("peer")
        if t and p:
            speed = p["cpu_s"] / t["cpu_s"] if t["cpu_s"] else float("nan")
            rss = t["peak_rss_mib"] / p["peak_rss_mib"]
            lines += ["",
                      f"gigapixels per CPU-second: tessera {speed:.2f}x the peer (goal >= {GOALS['speed']:.0f}x): "
                      + ("met" if speed >= GOALS["speed"] else "MISS"),
                      f"peak RSS: tessera {rss:.2f}x the peer's (goal <= {GOALS['rss']}x): " + ("met" if rss <= GOALS["rss"] else "MISS"),
                      f"wall: tessera {p['wall_s'] / t['wall_s']:.2f}x faster; output bytes {t['output_bytes'] / p['output_bytes']:.3f}x the peer's"]
        lossy = self.rows.get("lossy")
        if lossy and t:
            lines.append(f"lossy opt-in (NGFF 0.4, imagecodecs_jpeg, quality {lossy['quality']}): output / JPEG input "
                         f"{lossy['out_over_in']:.2f}x, level 0 PSNR {lossy['psnr_level0_db']:.2f} dB against the lossless "
                         f"level 0; CPU {lossy['cpu_s'] / t['cpu_s']:.2f}x the lossless run's")
        if t:
            lines.append(f"output / JPEG input: {t['out_over_in']:.2f}x (goal <= {GOALS['blowup']:.0f}x with the lossless default): "
                         + ("met" if t["out_over_in"] <= GOALS["blowup"] else "MISS"))
            lines += ["", f"the reported job, 17,000 slides / 20 TB in (scaled by input bytes from this slide):",
                      f"  {'':24} {'CPU-days':>10} {'TB out':>8} {'objects':>10}",
                      f"  {'reported':24} {REPORTED['cpu_days']:>10.0f} {REPORTED['output_tb']:>8.0f} {REPORTED['objects'] / 1e6:>9.0f}M"]
            for key in ("tessera", "lossy", "peer"):
                r = self.rows.get(key)
                if r:
                    e = extrapolate(r, i["file_bytes"])
                    lines.append(f"  {names[key]:24} {e['cpu_days']:>10.1f} {e['output_tb']:>8.1f} {e['objects'] / 1e6:>9.2f}M")
        return lines

    def document(self):
        doc = {"input": self.input, "reader": self.reader, "peer_reader": self.args.reader, "slide": self.rows,
               "reported": REPORTED, "goals": GOALS}
        if self.input:
            doc["extrapolated"] = {k: extrapolate(r, self.input["file_bytes"]) for k, r in self.rows.items()}
        return doc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true", help="an 8192x6144 slide instead of 32768x24576")
    size.add_argument("--size", type=make_slide.parse_size, help="slide WIDTHxHEIGHT (default 32768x24576)")
    ap.add_argument("--tessera", type=Path, default=HERE.parent / ".build" / "release" / "tessera")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--reader", choices=("openslide", "tiffslide"), default="openslide", help="the peer's slide reader")
    ap.add_argument("--no-peer", dest="peer", action="store_false")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--convert-flags", default="", help="extra flags for tessera convert, space-separated")
    ap.add_argument("--lossy", type=int, nargs="?", const=90, default=None, metavar="Q",
                    help="also convert with the lossy opt-in (--ngff 0.4 --codec jpeg --level Q, default 90) and report its PSNR")
    ap.add_argument("--json", type=Path, default=CACHE / "last-slide-bench.json")
    args = ap.parse_args(argv)
    args.size = SMALL_SIZE if args.small else (args.size or make_slide.DEFAULT_SIZE)
    args.repeat = 1
    return run_section(SlideBench(args), args.json)


if __name__ == "__main__":
    sys.exit(main())
