#!/usr/bin/env python3
"""The lossless codec table for 8-bit RGB slide content (Docs/convert.md, "Codecs for slides").

    python Benchmarks/slide_codecs.py [--size 8192x8192 | --slide PATH] [--tessera PATH] [--jobs N]
                                      [--codecs all|quick] [--no-chunks] [--json PATH]

Measured with Tessera itself, on a slide from Benchmarks/make_slide.py (synthetic H&E, 256²
JPEG tiles at Q90; default 8192×8192, the same content statistics as the 2.4 GB bench slide):

  1. `tessera convert SLIDE.svs BASE --ngff 0.4 --codec none --chunks 1,256,256`: the
     slide's level 0 as the `c,y,x` uint8 array every RGB source becomes (c = 3) and its
     full pyramid, uncompressed. Until the OpenSlide reader lands, Tessera opens an SVS as the
     TIFF it is and reads page 0 (the level-0 JPEG tiles, decoded by libtiff + libjpeg to
     the same pixels tifffile and OpenSlide give): the same array the slide reader produces.
  2. For every codec variant: `tessera copy BASE OUT --codecs JSON --no-fsync`: every level
     re-encoded with that compressor (Zarr v2 chunks, so each chunk's bytes are the codec's
     output; sharding would add 16 bytes of index per chunk). Reported: output bytes /
     input bytes (input = the slide file, all its JPEG levels; and level 0 alone against
     level 0's JPEG tiles), wall seconds and CPU seconds of the copy, and encode speed in
     MB of pixels per CPU second (the copy reads the uncompressed chunks, so this is the
     codec plus file I/O).
  3. Chunk shapes (`--no-chunks` skips): the chosen codec with chunks c=1 or c=3 per chunk
     × 256, 512, 1024 on y and x.

The table is printed as Markdown (for Docs/convert.md) and kept in
Benchmarks/.cache/last-slide-codecs.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_slide  # noqa: E402
from harness.process import run_measured, warm  # noqa: E402
from harness.report import git_describe, run_header, write_json  # noqa: E402

CACHE = HERE / ".cache"


def blosc(cname, clevel, shuffle):
    return {"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}[shuffle],
            "blocksize": 0}


def variants(which):
    """(name, v2 compressor) for every codec Tessera writes."""
    out = [("none", None)]
    lz4_levels = (1, 5, 9) if which == "all" else (5,)
    zstd_levels = (1, 2, 3, 5) if which == "all" else (3, 5)  # blosc clevel c = zstd level 2c-1
    for shuffle in ("noshuffle", "shuffle", "bitshuffle"):
        levels = lz4_levels if shuffle != "shuffle" else (5,)  # byte shuffle of 1-byte items is a no-op
        out += [(f"blosc-lz4 {lvl} {shuffle}", blosc("lz4", lvl, shuffle)) for lvl in levels]
    for shuffle in ("noshuffle", "shuffle", "bitshuffle"):
        levels = zstd_levels if shuffle != "shuffle" else (5,)
        out += [(f"blosc-zstd {lvl} {shuffle}", blosc("zstd", lvl, shuffle)) for lvl in levels]
    out += [(f"zstd {lvl}", {"id": "zstd", "level": lvl}) for lvl in ((1, 3, 9) if which == "all" else (3,))]
    out += [(f"gzip {lvl}", {"id": "gzip", "level": lvl}) for lvl in ((1, 6, 9) if which == "all" else (6,))]
    return out


def jpeg_bytes(slide):
    """(file bytes, level 0's JPEG tile bytes, level 0 pixel bytes)."""
    import tifffile
    with tifffile.TiffFile(slide) as t:
        p = t.pages[0]
        return slide.stat().st_size, int(sum(p.databytecounts)), p.imagelength * p.imagewidth * 3


def measured(tessera, argv, timeout):
    r = run_measured([str(tessera), *map(str, argv)], timeout)
    if r["rc"] != 0:
        raise SystemExit(f"tessera {' '.join(map(str, argv))} failed ({r['rc']}): {r['stderr'][-1500:]}")
    return r


def chunk_bytes(folder: Path, level=None):
    """Bytes of the chunk files (not metadata) under `folder` (or its level `level`)."""
    root = folder / str(level) if level is not None else folder
    n = size = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if f.startswith(".z") or f.startswith(".tessera") or f == "zarr.json":
                continue
            n += 1
            size += os.lstat(os.path.join(dirpath, f)).st_size
    return n, size


def row(name, r, folder, inputs, pixels_all):
    file_bytes, l0_jpeg, l0_pixels = inputs
    _, out_all = chunk_bytes(folder)
    _, out_l0 = chunk_bytes(folder, 0)
    cpu = r["time"].get("user_s", 0) + r["time"].get("sys_s", 0)
    return {"codec": name, "out_bytes": out_all, "out_level0_bytes": out_l0,
            "out_over_file": out_all / file_bytes, "level0_over_jpeg": out_l0 / l0_jpeg,
            "over_pixels": out_all / pixels_all, "wall_s": r["wall"], "cpu_s": cpu,
            "mb_per_cpu_s": pixels_all / 1e6 / cpu if cpu else None, "peak_rss_mib": r["maxrss_kib"] / 1024}


def markdown(rows, title):
    lines = [f"| {title} | out / slide file | level 0 out / level 0 JPEG | out / pixels | MB of pixels per CPU s | wall s |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        speed = f"{r['mb_per_cpu_s']:.0f}" if r["mb_per_cpu_s"] else "—"
        lines.append(f"| {r['codec']} | {r['out_over_file']:.2f} | {r['level0_over_jpeg']:.2f} | {r['over_pixels']:.3f} | {speed} | {r['wall_s']:.1f} |")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--size", type=make_slide.parse_size, default=(8192, 8192), help="slide WIDTHxHEIGHT (default 8192x8192)")
    src.add_argument("--slide", type=Path, help="an SVS made by make_slide.py instead")
    ap.add_argument("--tessera", type=Path, default=HERE.parent / ".build" / "release" / "tessera")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--codecs", choices=("all", "quick"), default="all")
    ap.add_argument("--chunk-codec", default="blosc-zstd 1 noshuffle",
                    help="the codec of the chunk-shape rows (a name from the table)")
    ap.add_argument("--no-chunks", dest="chunks", action="store_false")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--json", type=Path, default=CACHE / "last-slide-codecs.json")
    a = ap.parse_args(argv)
    slide = a.slide.resolve() if a.slide else make_slide.ensure(a.size)
    inputs = jpeg_bytes(slide)
    warm(slide)
    work = Path(tempfile.mkdtemp(prefix="slide-codecs-", dir=CACHE))
    doc = {**run_header(git_describe()), "slide": str(slide), "file_bytes": inputs[0], "level0_jpeg_bytes": inputs[1],
           "level0_pixel_bytes": inputs[2], "codecs": [], "chunks": []}
    try:
        base = work / "base"
        print(f"base: tessera convert {slide.name} --ngff 0.4 --codec none --chunks 1,256,256", file=sys.stderr, flush=True)
        rb = measured(a.tessera, ["convert", slide, base, "--ngff", "0.4", "--codec", "none", "--chunks", "1,256,256",
                                          "--jobs", a.jobs, "--no-fsync"], a.timeout)
        _, pixels_all = chunk_bytes(base)
        doc["pyramid_pixel_bytes"] = pixels_all
        doc["base_convert"] = row("convert, no codec", rb, base, inputs, pixels_all)
        table = {}
        for name, comp in variants(a.codecs):
            out = work / "out"
            print(f"copy: {name}", file=sys.stderr, flush=True)
            r = measured(a.tessera, ["copy", base, out, "--codecs", json.dumps(comp), "--jobs", a.jobs, "--no-fsync"], a.timeout)
            table[name] = row(name, r, out, inputs, pixels_all)
            doc["codecs"].append(table[name])
            shutil.rmtree(out)
        if a.chunks:
            comp = dict(variants("all"))[a.chunk_codec]
            for c in (1, 3):
                for side in (256, 512, 1024):
                    out = work / "out"
                    name = f"{a.chunk_codec}, chunks {c}×{side}×{side}"
                    print(f"copy: {name}", file=sys.stderr, flush=True)
                    r = measured(a.tessera, ["copy", base, out, "--codecs", json.dumps(comp), "--chunks", f"{c},{side},{side}",
                                             "--jobs", a.jobs, "--no-fsync"], a.timeout)
                    doc["chunks"].append(row(name, r, out, inputs, pixels_all))
                    shutil.rmtree(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    file_bytes, l0_jpeg, l0_pixels = inputs
    print(f"slide {slide.name}: {file_bytes / 1e6:.1f} MB file, level 0 {l0_pixels / 1e6:.1f} MB of pixels in "
          f"{l0_jpeg / 1e6:.1f} MB of JPEG ({l0_pixels / l0_jpeg:.1f}:1); pyramid {pixels_all / 1e6:.1f} MB of pixels; "
          f"jobs {a.jobs}, {os.cpu_count()} CPUs, tessera {doc['tessera_git']}")
    print("\n".join(markdown(doc["codecs"], "codec (Zarr v2 chunks 1×256×256)")))
    if doc["chunks"]:
        print()
        print("\n".join(markdown(doc["chunks"], "chunk shape")))
    write_json(a.json, doc)
    print(f"results: {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
