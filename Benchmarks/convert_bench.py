#!/usr/bin/env python3
"""The conversion benchmark (Docs/bench.md): `tessera convert` vs its peers, one run,
one input.

    python Benchmarks/convert_bench.py [--small | --shape Z,Y,X] [--variants V,...]
        [--tools T,...] [--jobs N] [--repeat N] [--memory-check] [--tessera PATH] ...

Input: a tiled TIFF, uint16, Z x Y x X (default 128x2048x2048 = 1 GiB), 256x256 uncompressed
tiles, one page per z plane, axes "ZYX" in tifffile's shaped description; the pixels are
make_input.py's (deterministic structure + noise). Generated once into Benchmarks/.cache/
with a sidecar JSON holding the expected shape and checksum of every pyramid level.

Job (every tool): the full 2x mean pyramid of Docs/convert.md (z, y, x halved per level,
integer mean rounded half up, until y and x fit one chunk), 64^3 chunks, blosc with byte
shuffle, clevel 5. Variants:
  v05-zstd   NGFF 0.5 (Zarr v3, shards of 4 chunks per axis), blosc zstd 5
  v04-zstd   NGFF 0.4 (Zarr v2, "/" keys), blosc zstd 5
  v05-lz4    NGFF 0.5 sharded, blosc lz4 5
  v04-lz4    NGFF 0.4, blosc lz4 5                         (not in the default set)
Tools:
  tessera        .build/release/tessera convert IN OUT --ngff V --chunks 64 --codec blosc-C --level 5 --jobs N
  tensorstore    Benchmarks/convert_peers.py tensorstore (tifffile + tensorstore + numpy)
  ngff-zarr      Benchmarks/convert_peers.py ngff-zarr (its Python API, dask_bin_shrink)
  bioformats2raw if a `bioformats2raw` launcher is on PATH (or --bioformats2raw PATH);
                 else a row says why not (it cannot be installed from PyPI or Debian).
  floor          .build/release/tessera-bench floor: blosc-compress every 64^3 chunk of
                 level 0 (the raw copy of the input), no I/O, no pyramid; run right before
                 each variant's tessera run so the two share the machine's state. Its
                 "wall s" is the time inside the process (compression only). The pyramid has
                 1.143x the voxels of level 0, so a converter running exactly at the floor's
                 speed would show 0.875x; the table prints both ratios.

Per tool and variant, each tool in its own process under the harness's launcher
(Benchmarks/harness/process.py: wait4's rusage of the tool's own process):
  wall s     the whole process, start-up and imports included (spawn to exit)
  MB/s       input bytes (uncompressed, MB = 10^6 B) / wall s
  peak RSS   the tool's process's maximum resident set size (ru_maxrss), MiB
  anon       the largest RssAnon of that process sampled every 10 ms, MiB
  CPU %      (user + system CPU time) / wall, as GNU time's "Percent of CPU this job got"
  objects    files under the output after the run, and their bytes
Then (off the clock) every output is read back by `convert_peers.py verify`: level
shapes, chunks, shards, codec and the checksum of every level must equal the expected
ones (FAIL for tessera; peers that write a different layout are flagged in the table).
Before each step sync(2) flushes earlier dirty pages; the input is read once first so
every tool starts with a warm page cache. Outputs go to a temporary folder in the cache
and are deleted after checking (--keep keeps them).

--memory-check: also converts a 4 GiB uint16 BigTIFF (512x2048x2048, same tiling; 64x512x512
with --small) with Tessera (NGFF 0.5, zstd 5) and checks that its peak RSS, from
ru_maxrss, stays below 1 GiB (the issue's requirement), and prints how it grew
from the 1 GiB run. The 4 GiB file is generated once into the cache (free space is
checked first).

Results: Benchmarks/.cache/last-convert-bench.json. Compare the ratios, not absolutes.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE))
import convert_peers  # noqa: E402
import make_input  # noqa: E402
import peers  # noqa: E402
from harness.process import last_json_line, run_measured, warm  # noqa: E402
from harness.report import count_objects, csv_choice, format_table  # noqa: E402
from harness.section import Section, add_run_arguments, add_size_arguments, check_counts, run_section  # noqa: E402

DEFAULT_SHAPE = (128, 2048, 2048)
SMALL_SHAPE = (32, 512, 512)
MEMCHECK_SHAPE = (512, 2048, 2048)
MEMCHECK_SMALL_SHAPE = (64, 512, 512)
MEMCHECK_LIMIT_MIB = 1024
TILE = 256
CHUNK = 64
CLEVEL = 5
VARIANTS = {  # name -> (ngff, cname)
    "v05-zstd": ("0.5", "zstd"),
    "v04-zstd": ("0.4", "zstd"),
    "v05-lz4": ("0.5", "lz4"),
    "v04-lz4": ("0.4", "lz4"),
}
DEFAULT_VARIANTS = ("v05-zstd", "v04-zstd", "v05-lz4")
ALL_TOOLS = ("tessera", "tensorstore", "ngff-zarr", "bioformats2raw")
PEERS = ("tensorstore", "ngff-zarr", "bioformats2raw")
MB = 1e6
MiB = 2 ** 20


# ----------------------------------------------------------------------------- input

def tiff_path(shape, cache=CACHE):
    return Path(cache) / ("convert-%s-u16-tile%d.tif" % ("x".join(map(str, shape)), TILE))


def _tiles(shape, sink):
    """Yield the TIFF's tiles page by page, row-major; hand every plane to `sink`."""
    _, y, x = shape
    for plane in make_input.iter_planes(shape):
        sink(plane)
        for ty in range(0, y, TILE):
            for tx in range(0, x, TILE):
                yield plane[ty:ty + TILE, tx:tx + TILE]


class _Expected:
    """Per-level checksums computed while the planes stream past: level 1 is built two
    planes at a time (1/8 of the input, in memory), the levels below it at the end."""

    def __init__(self, shape):
        import numpy as np
        self.np = np
        self.shapes = convert_peers.check_power_of_two_pyramid(shape, CHUNK)
        self.total0 = np.uint64(0)
        self.pair = []
        self.k = 0
        self.level1 = np.empty(self.shapes[1], dtype="<u2") if len(self.shapes) > 1 else None

    def __call__(self, plane):
        np = self.np
        with np.errstate(over="ignore"):
            self.total0 += np.sum(plane, dtype=np.uint64)
        if self.level1 is None:
            return
        self.pair.append(plane)
        zpair = 2 if self.shapes[0][0] > 1 else 1
        if len(self.pair) == zpair:
            convert_peers.mean2(np.stack(self.pair), out=self.level1[self.k:self.k + 1])
            self.k += 1
            self.pair = []

    def levels(self):
        out = [{"shape": list(self.shapes[0]), "checksum": int(self.total0)}]
        level = self.level1
        for i in range(1, len(self.shapes)):
            assert tuple(level.shape) == self.shapes[i]
            out.append({"shape": list(level.shape), "checksum": peers.checksum(level)})
            level = convert_peers.mean2(level) if i + 1 < len(self.shapes) else None
        return out


def ensure_tiff(shape, cache=CACHE, log=sys.stderr):
    """Return (path, info) of the cached TIFF of this shape, generating it if missing.
    info (the sidecar JSON) has the expected checksum and shape of every level."""
    import numpy as np
    import tifffile
    path = tiff_path(shape, cache)
    side = path.with_name(path.name + ".json")
    nbytes = int(np.prod(shape)) * 2
    bigtiff = nbytes > 2 ** 31
    if path.exists() and side.exists():
        try:
            info = json.loads(side.read_text())
            if info.get("shape") == list(shape) and info.get("file_bytes") == path.stat().st_size:
                return path, info
        except (OSError, ValueError):
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path.parent).free
    need = int(nbytes * 1.05) + 2 * 2 ** 30
    if free < need:
        raise SystemExit(f"convert_bench: generating {path.name} needs {need / 2**30:.1f} GiB free in "
                         f"{path.parent}, only {free / 2**30:.1f} GiB free")
    print(f"convert_bench: generating {path} ({nbytes / MiB:.0f} MiB, {'BigTIFF' if bigtiff else 'TIFF'}, "
          f"{TILE}x{TILE} tiles) ...", file=log, flush=True)
    t0 = time.monotonic()
    expected = _Expected(shape)
    tmp = path.with_name(path.name + ".partial-%d" % os.getpid())
    try:
        with tifffile.TiffWriter(tmp, bigtiff=bigtiff) as tw:
            tw.write(_tiles(shape, expected), shape=tuple(shape), dtype="<u2", tile=(TILE, TILE),
                     photometric="minisblack", compression=None, metadata={"axes": "ZYX"})
        levels = expected.levels()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    info = {"shape": list(shape), "dtype": "uint16", "tile": [TILE, TILE], "bigtiff": bigtiff,
            "bytes": nbytes, "file_bytes": path.stat().st_size, "levels": levels,
            "tifffile": tifffile.__version__}
    side.write_text(json.dumps(info, indent=2) + "\n")
    print(f"convert_bench: generated in {time.monotonic() - t0:.0f} s", file=log, flush=True)
    return path, info


# ----------------------------------------------------------------------------- expectations

def expected_layout(info, ngff, cname):
    """Per level: shape, chunks, shards (0.5) and the blosc settings every output should have."""
    levels = []
    for lv in info["levels"]:
        s = tuple(lv["shape"])
        levels.append({"shape": list(s), "chunks": list(convert_peers.chunk_shape(s, CHUNK)),
                       "shards": list(convert_peers.shard_shape(s, CHUNK)) if ngff == "0.5" else None,
                       "checksum": lv["checksum"]})
    return levels


def codec_ok(codecs, ngff, cname):
    """True if the compressor list is exactly blosc cname/clevel 5/byte shuffle."""
    if len(codecs) != 1 or not codecs[0]:
        return False
    c = codecs[0]
    if ngff == "0.5":
        conf = c.get("configuration", {})
        return c.get("name") == "blosc" and conf.get("cname") == cname and conf.get("clevel") == CLEVEL \
            and conf.get("shuffle") == "shuffle"
    return c.get("id") == "blosc" and c.get("cname") == cname and c.get("clevel") == CLEVEL and c.get("shuffle") == 1


def check_output(got, info, ngff, cname):
    """Compare a verify result with the expected pyramid. Returns (pixel_problems, layout_problems)."""
    want = expected_layout(info, ngff, cname)
    pixels, layout = [], []
    if got.get("zarr_format") != (3 if ngff == "0.5" else 2):
        layout.append(f"zarr_format {got.get('zarr_format')}")
    if got.get("ngff_version") != ngff:
        layout.append(f"NGFF version {got.get('ngff_version')!r}")
    levels = got.get("levels", [])
    if len(levels) != len(want):
        pixels.append(f"{len(levels)} levels, expected {len(want)} "
                      f"({', '.join('x'.join(map(str, lv['shape'])) for lv in levels)})")
    for i, (g, w) in enumerate(zip(levels, want)):
        if g["shape"] != w["shape"]:
            pixels.append(f"level {i} shape {g['shape']} != {w['shape']}")
        elif g["checksum"] != w["checksum"]:
            pixels.append(f"level {i} checksum {g['checksum']} != {w['checksum']}")
        if list(g["chunks"]) != w["chunks"]:
            layout.append(f"level {i} chunks {g['chunks']} (want {w['chunks']})")
        if (list(g["shards"]) if g["shards"] else None) != w["shards"]:
            layout.append(f"level {i} shards {g['shards']} (want {w['shards']})")
        if not codec_ok(g["codecs"], ngff, cname):
            layout.append(f"level {i} codec {g['codecs']}")
    return pixels, layout


# ----------------------------------------------------------------------------- the run

class ConvertBench(Section):
    def __init__(self, args):
        super().__init__(args)
        self.rows = {}  # (variant, tool) -> row
        self.floors = {}  # variant -> row (measured right before that variant's tessera run)
        self.memcheck = None
        self.unavailable = {}  # tool -> reason

    # --- commands

    def command(self, tool, variant, inp, out):
        a = self.args
        ngff, cname = VARIANTS[variant]
        if tool == "tessera":
            return [str(a.tessera), "convert", str(inp), str(out), "--ngff", ngff, "--chunks", str(CHUNK),
                    "--codec", f"blosc-{cname}", "--level", str(CLEVEL), "--jobs", str(a.jobs)]
        if tool in ("tensorstore", "ngff-zarr"):
            return [sys.executable, str(HERE / "convert_peers.py"), tool, "--tiff", str(inp), "--out", str(out),
                    "--ngff", ngff, "--cname", cname, "--clevel", str(CLEVEL), "--chunks", str(CHUNK),
                    "--jobs", str(a.jobs)]
        if tool == "bioformats2raw":
            # Untested here (bioformats2raw cannot be installed on this machine). Its
            # options as of 0.9: NGFF 0.4 only, no z downsampling, AREA = mean.
            return [str(a.bioformats2raw), str(inp), str(out), "--resolutions", str(len(self.info["levels"])),
                    "--tile_width", str(CHUNK), "--tile_height", str(CHUNK), "--chunk_depth", str(CHUNK),
                    "--downsample-type", "AREA", "--compression", "blosc",
                    "--compression-properties", f"cname={cname}", "--compression-properties", f"clevel={CLEVEL}",
                    "--compression-properties", "shuffle=1", "--max_workers", str(a.jobs)]
        raise ValueError(tool)

    def available(self, tool):
        a = self.args
        if tool == "tessera":
            if not os.access(a.tessera, os.X_OK):
                return f"{a.tessera} is missing (make release)"
            r = subprocess.run([str(a.tessera), "convert", "--help"], capture_output=True, text=True, timeout=60)
            if r.returncode != 0 or "--ngff" not in r.stdout + r.stderr:
                return f"this tessera has no `convert` subcommand yet (`{a.tessera} convert --help` shows no --ngff)"
            return None
        if tool == "bioformats2raw":
            if a.bioformats2raw is None:
                return ("not installed: no `bioformats2raw` on PATH. It is a Java application "
                        "distributed from GitHub releases / OME's and Glencoe's Maven repositories, "
                        "none of which this machine can reach (only PyPI and Debian are); no PyPI "
                        "or Debian package ships it (bioformats_jar/scyjava fetch Bio-Formats from "
                        "Maven Central at run time)")
            return None
        return None

    # --- steps

    def run_floor(self, variant):
        """The compress-only floor for this variant's codec, run just before its tessera run
        so both see the same machine (this is a shared, noisy machine)."""
        a = self.args
        cname = VARIANTS[variant][1]
        cmd = [str(a.tessera_bench), "floor", "--raw", str(self.raw), "--shape", ",".join(map(str, self.shape)),
               "--cname", cname, "--jobs", str(a.jobs)]
        if a.sync:
            os.sync()
        child = run_measured(cmd, a.timeout)
        res = last_json_line(child["stdout"])
        what = f"{variant} floor blosc-{cname}"
        if child["rc"] != 0 or not res or res.get("tool") != "floor" or not res.get("seconds"):
            self.progress(what, "failed")
            self.notes.append(f"{what}: no floor ({(child['stderr'] or child['stdout']).strip()[-300:]})")
            return
        row = {"tool": "floor", "variant": variant, "cname": cname, "seconds": res["seconds"],
               "wall": child["wall"], "mb_per_s": self.nbytes / res["seconds"] / MB,
               "peak_rss_mib": child["maxrss_kib"] / 1024, "peak_anon_mib": child["peak_anon_kib"] / 1024,
               "cpu_percent": child["time"].get("cpu_percent"), "command": cmd}
        old = self.floors.get(variant)
        if old is None or row["seconds"] < old["seconds"]:  # best of --repeat
            self.floors[variant] = row
        self.progress(what, f"{res['seconds']:8.2f} s  {row['mb_per_s']:8.1f} MB/s (compress only, inside the process)")

    def verify(self, out):
        cmd = [sys.executable, str(HERE / "convert_peers.py"), "verify", "--out", str(out),
               "--jobs", str(self.args.jobs)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=self.args.timeout)
        res = last_json_line(r.stdout)
        if r.returncode != 0 or not res:
            return None, (r.stderr or r.stdout).strip()[-1000:]
        return res, None

    def run_tool(self, variant, tool, rep):
        a = self.args
        ngff, cname = VARIANTS[variant]
        what = f"{variant} {tool}"
        reason = self.unavailable.get(tool)
        if reason:
            self.progress(what, "skipped: " + reason.split(":")[0])
            return
        if tool == "bioformats2raw" and ngff != "0.4":
            self.progress(what, "skipped: bioformats2raw writes NGFF 0.4 only")
            return
        out = self.outdir / f"{variant}-{tool}-{rep}.ome.zarr"
        cmd = self.command(tool, variant, self.tiff, out)
        if a.sync:
            os.sync()
        child = run_measured(cmd, a.timeout)
        res = last_json_line(child["stdout"]) if tool in ("tensorstore", "ngff-zarr") else None
        if child["rc"] != 0:
            self.progress(what, "failed")
            tail = (child["stderr"].strip() or child["stdout"].strip())[-2000:]
            self.fail(f"{what}: exit status {child['rc']}\n  command: {' '.join(cmd)}\n  output: {tail}")
            shutil.rmtree(out, ignore_errors=True)
            return
        objects, size = count_objects(out)
        got, err = self.verify(out)
        if got is None:
            pixels, layout = [f"could not read the output back: {err}"], []
        else:
            pixels, layout = check_output(got, self.info, ngff, cname)
        run = {"wall": child["wall"], "inner_seconds": (res or {}).get("seconds"),
               "peak_rss_mib": child["maxrss_kib"] / 1024, "peak_anon_mib": child["peak_anon_kib"] / 1024,
               "cpu_percent": child["time"].get("cpu_percent"), "user_s": child["time"].get("user_s"),
               "sys_s": child["time"].get("sys_s")}
        key = (variant, tool)
        row = self.rows.setdefault(key, {"variant": variant, "tool": tool, "ngff": ngff, "cname": cname,
                                         "command": cmd, "runs": []})
        row["runs"].append(run)
        best = min(row["runs"], key=lambda r: r["wall"])
        row.update({"wall": best["wall"], "inner_seconds": best["inner_seconds"],
                    "cpu_percent": best["cpu_percent"],
                    "mb_per_s": self.nbytes / best["wall"] / MB,
                    "peak_rss_mib": max(r["peak_rss_mib"] for r in row["runs"]),
                    "peak_anon_mib": max(r["peak_anon_mib"] for r in row["runs"]),
                    "objects": objects, "out_bytes": size, "pixels_ok": not pixels, "layout_ok": not layout,
                    "pixel_problems": pixels, "layout_problems": layout,
                    "levels": len(got["levels"]) if got else None})
        if res and res.get("version"):
            self.versions[tool] = res["version"]
        if pixels:
            if tool == "tessera" or got is None or any(p.startswith("level 0 ") for p in pixels):
                self.fail(f"{what}: wrong pixels: " + "; ".join(pixels))
            else:
                self.notes.append(f"{what}: a different pyramid than the job asks: " + "; ".join(pixels))
        if layout:
            if tool == "tessera":
                self.fail(f"{what}: wrong layout: " + "; ".join(layout))
            else:
                self.notes.append(f"{what}: layout differs from the job's: " + "; ".join(layout[:4])
                                  + (f" (+{len(layout) - 4} more)" if len(layout) > 4 else ""))
        inner = f" (inner {res['seconds']:.2f} s)" if res and res.get("seconds") else ""
        self.progress(what, f"{child['wall']:8.2f} s  {self.nbytes / child['wall'] / MB:8.1f} MB/s  "
                       f"rss {run['peak_rss_mib']:7.1f} MiB  anon {run['peak_anon_mib']:7.1f} MiB  "
                       f"cpu {run['cpu_percent']}%  {objects} objects{inner}"
                       + ("" if not pixels else "  PIXELS DIFFER") + ("" if not layout else "  layout differs"))
        if not a.keep:
            shutil.rmtree(out, ignore_errors=True)

    def run_memcheck(self):
        a = self.args
        shape = MEMCHECK_SMALL_SHAPE if a.small else MEMCHECK_SHAPE
        tiff, info = ensure_tiff(shape)
        nbytes = int(shape[0] * shape[1] * shape[2]) * 2
        what = f"memory check {'x'.join(map(str, shape))}"
        if self.unavailable.get("tessera"):
            self.progress(what, "skipped: " + self.unavailable["tessera"])
            return
        print(f"input: {tiff} ({nbytes / MiB:.0f} MiB); warming page cache ...", file=sys.stderr, flush=True)
        warm(tiff)
        out = self.outdir / "memcheck-tessera.ome.zarr"
        cmd = self.command("tessera", "v05-zstd", tiff, out)
        if a.sync:
            os.sync()
        child = run_measured(cmd, a.timeout)
        rss = child["maxrss_kib"] / 1024
        row = {"shape": list(shape), "bytes": nbytes, "tiff": str(tiff), "command": cmd, "wall": child["wall"],
               "mb_per_s": nbytes / child["wall"] / MB, "peak_rss_mib": rss,
               "peak_anon_mib": child["peak_anon_kib"] / 1024, "limit_mib": MEMCHECK_LIMIT_MIB,
               "cpu_percent": child["time"].get("cpu_percent"), "rc": child["rc"]}
        if child["rc"] != 0:
            self.progress(what, "failed")
            self.fail(f"{what}: exit status {child['rc']}: {(child['stderr'] or child['stdout']).strip()[-1500:]}")
        else:
            row["objects"], row["out_bytes"] = count_objects(out)
            if a.memcheck_verify:
                got, err = self.verify(out)
                pixels, layout = (check_output(got, info, "0.5", "zstd") if got else ([err], []))
                row["pixels_ok"], row["layout_ok"] = not pixels, not layout
                if pixels or layout:
                    self.fail(f"{what}: " + "; ".join(pixels + layout))
            row["ok"] = rss < MEMCHECK_LIMIT_MIB
            self.progress(what, f"{child['wall']:8.2f} s  {row['mb_per_s']:8.1f} MB/s  rss {rss:7.1f} MiB "
                           f"(limit {MEMCHECK_LIMIT_MIB})  {'ok' if row['ok'] else 'OVER'}")
            if not row["ok"]:
                self.fail(f"{what}: peak RSS {rss:.0f} MiB >= {MEMCHECK_LIMIT_MIB} MiB")
        self.memcheck = row
        shutil.rmtree(out, ignore_errors=True)

    def measure(self):
        a = self.args
        self.shape = a.shape
        self.nbytes = a.shape[0] * a.shape[1] * a.shape[2] * 2
        for tool in a.tools:
            r = self.available(tool)
            if r:
                self.unavailable[tool] = r
        self.tiff, self.info = ensure_tiff(self.shape)
        do_floor = "tessera" in a.tools and "tessera" not in self.unavailable and not a.no_floor \
            and os.access(a.tessera_bench, os.X_OK)
        if do_floor:
            self.raw = make_input.ensure_input(self.shape)
        self.steps_total = a.repeat * len(a.variants) * (len(a.tools) + (1 if do_floor else 0)) \
            + (1 if a.memory_check else 0)
        print(f"input: {self.tiff} ({self.nbytes / MiB:.0f} MiB); warming page cache ...", file=sys.stderr, flush=True)
        if do_floor:
            warm(self.raw)
        warm(self.tiff)
        with self.workdir("convert-run-", CACHE) as self.outdir:
            for rep in range(a.repeat):
                for variant in a.variants:
                    for tool in a.tools:
                        if tool == "tessera" and do_floor:
                            self.run_floor(variant)
                        self.run_tool(variant, tool, rep)
            if a.memory_check:
                self.run_memcheck()

    # ------------------------------------------------------------------------- reporting

    def pyramid_factor(self):
        """Voxels of the whole pyramid / voxels of level 0 (the floor compresses level 0 only)."""
        n0 = 1
        for s in self.info["levels"][0]["shape"]:
            n0 *= s
        tot = 0
        for lv in self.info["levels"]:
            n = 1
            for s in lv["shape"]:
                n *= s
            tot += n
        return tot / n0

    def ratios(self):
        out = []
        for variant in self.args.variants:
            t = self.rows.get((variant, "tessera"))
            if not t:
                continue
            for peer in PEERS:
                p = self.rows.get((variant, peer))
                if p:
                    out.append({"variant": variant, "vs": peer, "speed": p["wall"] / t["wall"],
                                "memory": t["peak_rss_mib"] / p["peak_rss_mib"] if p["peak_rss_mib"] else None})
            f = self.floors.get(variant)
            if f:
                out.append({"variant": variant, "vs": f"floor-{f['cname']}", "speed": t["mb_per_s"] / f["mb_per_s"],
                            "speed_pyramid": t["mb_per_s"] * self.pyramid_factor() / f["mb_per_s"]})
        return out

    def goals(self):
        """The targets of Docs/bench.md, each with the measured value."""
        g = []
        for variant in self.args.variants:
            ngff, cname = VARIANTS[variant]
            t = self.rows.get((variant, "tessera"))
            if not t:
                continue
            f = self.floors.get(variant)
            if cname == "zstd" and f:
                v = t["mb_per_s"] / f["mb_per_s"]
                g.append((f"{variant}: tessera >= 0.90x compress-only floor", v, v >= 0.90))
            ts_ = self.rows.get((variant, "tensorstore"))
            if cname == "lz4" and ts_:
                v = ts_["wall"] / t["wall"]
                g.append((f"{variant}: tessera >= 2x tensorstore", v, v >= 2.0))
            nz = self.rows.get((variant, "ngff-zarr"))
            if nz:
                v = nz["wall"] / t["wall"]
                g.append((f"{variant}: tessera >= 2.5x ngff-zarr", v, v >= 2.5))
            g.append((f"{variant}: tessera peak RSS <= 500 MiB", t["peak_rss_mib"], t["peak_rss_mib"] <= 500))
        if self.memcheck and "ok" in self.memcheck:
            g.append((f"memory check {'x'.join(map(str, self.memcheck['shape']))}: peak RSS < 1024 MiB",
                      self.memcheck["peak_rss_mib"], self.memcheck["ok"]))
        return g

    def table_lines(self):
        a = self.args
        lines = []
        shape = "x".join(map(str, self.shape))
        lines.append(f"Conversion benchmark: {shape} uint16 tiled TIFF ({self.nbytes / MiB:.0f} MiB), "
                     f"{len(self.info['levels'])} levels, 64^3 chunks, clevel 5, {self.conditions()}")
        lines.append("wall = whole process; MB/s = input bytes / wall, MB = 10^6 B; "
                     "peak RSS = max RSS of the tool's process (MiB); anon = sampled RssAnon (MiB)")
        hdr = ("variant", "tool", "wall s", "MB/s", "peak RSS", "anon", "CPU%", "objects", "bytes", "check")
        rows = []
        for variant in a.variants:
            f = self.floors.get(variant)
            if f:
                rows.append((variant, f"floor-{f['cname']}", f"{f['seconds']:.2f}", f"{f['mb_per_s']:.1f}",
                             f"{f['peak_rss_mib']:.0f}", f"{f['peak_anon_mib']:.0f}",
                             str(f.get("cpu_percent") or ""), "", "", "level 0 compress only"))
            for tool in a.tools:
                r = self.rows.get((variant, tool))
                if r is None:
                    if tool in self.unavailable:
                        rows.append((variant, tool, "-", "-", "-", "-", "", "", "", "unavailable"))
                    continue
                check = "ok" if r["pixels_ok"] and r["layout_ok"] else \
                    ("PIXELS DIFFER" if not r["pixels_ok"] else "layout differs")
                rows.append((variant, tool, f"{r['wall']:.2f}", f"{r['mb_per_s']:.1f}", f"{r['peak_rss_mib']:.0f}",
                             f"{r['peak_anon_mib']:.0f}", str(r.get("cpu_percent") or ""), str(r["objects"]),
                             str(r["out_bytes"]), check))
        right = {2, 3, 4, 5, 6, 7, 8}
        lines += format_table(hdr, rows, right)
        rat = self.ratios()
        if rat:
            lines.append("")
            lines.append("Ratios: speed = peer wall / tessera wall (> 1: tessera faster); "
                         "memory = tessera peak RSS / peer peak RSS (< 1: tessera smaller)")
            for variant in a.variants:
                parts = []
                for x in rat:
                    if x["variant"] != variant:
                        continue
                    if x["vs"].startswith("floor"):
                        parts.append(f"vs {x['vs']} {x['speed']:.2f}x ({x['speed_pyramid']:.2f}x counting "
                                     f"the pyramid's {self.pyramid_factor():.3f}x voxels)")
                    else:
                        parts.append(f"vs {x['vs']} speed {x['speed']:.2f}x memory {x['memory']:.2f}x")
                if parts:
                    lines.append(f"  {variant:<9} " + "   ".join(parts))
        goals = self.goals()
        if goals:
            lines.append("")
            lines.append("Goals (Docs/bench.md):")
            for name, v, ok in goals:
                lines.append(f"  {'met ' if ok else 'MISS'}  {name}: {v:.2f}")
        if self.memcheck:
            m = self.memcheck
            lines.append("")
            line = (f"Memory check: tessera convert {'x'.join(map(str, m['shape']))} ({m['bytes'] / MiB:.0f} MiB) "
                    f"NGFF 0.5 zstd5: {m['wall']:.1f} s, {m['mb_per_s']:.1f} MB/s, peak RSS {m['peak_rss_mib']:.0f} MiB "
                    f"(limit < {m['limit_mib']} MiB): {'ok' if m.get('ok') else 'FAIL'}")
            t = self.rows.get(("v05-zstd", "tessera"))
            if t and m.get("peak_rss_mib"):
                line += (f"; RSS growth vs the {self.nbytes / MiB:.0f} MiB input: "
                         f"{m['peak_rss_mib'] / t['peak_rss_mib']:.2f}x for {m['bytes'] / self.nbytes:.0f}x the data")
            lines.append(line)
        for tool, reason in self.unavailable.items():
            lines.append(f"{tool}: {reason}")
        return lines

    def document(self):
        a = self.args
        return {
            "tessera": str(a.tessera),
            "versions": self.versions,
            "input": {"tiff": str(self.tiff), **self.info},
            "jobs": a.jobs, "repeat": a.repeat, "variants": {v: VARIANTS[v] for v in a.variants},
            "tools": list(a.tools),
            "units": {"mb_per_s": "input bytes / wall seconds / 1e6", "rss": "MiB (2^20 bytes)",
                      "wall": "whole process, best of repeat"},
            "floors": self.floors,
            "results": list(self.rows.values()),
            "ratios": self.ratios(),
            "goals": [{"goal": n, "value": v, "met": ok} for n, v, ok in self.goals()],
            "memory_check": self.memcheck,
            "unavailable": self.unavailable,
            "notes": self.notes,
        }


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_size_arguments(ap, SMALL_SHAPE, make_input.parse_shape)
    ap.add_argument("--variants", type=csv_choice(tuple(VARIANTS)), default=DEFAULT_VARIANTS,
                    help="comma-separated, default: " + ",".join(DEFAULT_VARIANTS))
    ap.add_argument("--tools", type=csv_choice(ALL_TOOLS), default=ALL_TOOLS,
                    help="comma-separated, default: " + ",".join(ALL_TOOLS))
    ap.add_argument("--memory-check", action="store_true",
                    help="also convert a 4 GiB BigTIFF with tessera and require peak RSS < 1 GiB")
    ap.add_argument("--no-memcheck-verify", dest="memcheck_verify", action="store_false",
                    help="do not read the memory check's output back")
    ap.add_argument("--tessera-bench", type=Path, default=REPO / ".build" / "release" / "tessera-bench",
                    help="tessera-bench binary, for the compress-only floor")
    ap.add_argument("--bioformats2raw", type=Path, default=None,
                    help="bioformats2raw launcher (default: `bioformats2raw` on PATH, if any)")
    ap.add_argument("--no-floor", action="store_true", help="skip the compress-only floor rows")
    add_run_arguments(ap, CACHE / "last-convert-bench.json")
    return ap


def main(argv=None):
    ap = build_parser()
    args = ap.parse_args(argv)
    args.shape = SMALL_SHAPE if args.small else (args.shape or DEFAULT_SHAPE)
    check_counts(ap, args)
    try:
        convert_peers.check_power_of_two_pyramid(args.shape, CHUNK)
    except ValueError as e:
        ap.error(str(e))
    args.tessera_bench = args.tessera_bench.absolute()
    if args.bioformats2raw is None:
        found = shutil.which("bioformats2raw")
        args.bioformats2raw = Path(found) if found else None
    bench = ConvertBench(args)
    return run_section(bench, args.json)


if __name__ == "__main__":
    sys.exit(main())
