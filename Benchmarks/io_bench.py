#!/usr/bin/env python3
"""The io section of `make bench` (run by Benchmarks/run_bench.py, whose options it takes).

For each layout (v3-blosc-zstd-sharded, v2-blosc-lz4) and each tool (tessera, zarr-python,
tensorstore) the whole input array is written to a fresh Zarr array and then read back
whole, each step in its own child process (tessera-bench for Tessera, peers.py run with
this interpreter for the peers), so every figure is per tool and per step:

  seconds     as measured inside the child: excludes process start-up (interpreter,
              imports) and mapping the input; includes creating the array and all I/O.
  MB/s        input bytes (uncompressed) / seconds, MB = 10^6 bytes.
  peak RSS    ru_maxrss of the tool's own process (os.wait4 in a small launcher, see
              Benchmarks/harness/process.py), MiB. It counts file-backed pages too: a
              writer that memory-maps the 1 GiB input shows ~1 GiB here even if it
              allocates little, and a reader
              holds the whole array, so both ops are >= the input size by construction.
  peak anon   the largest RssAnon of the child sampled from /proc every 10 ms, MiB: the
              private memory the tool allocated itself (approximate: sampled).
  objects     files under the output folder after the write, and their total bytes.

Also, when tessera-bench supports it, the compress-only floor (`tessera-bench floor`:
blosc-compress every 64^3 chunk in memory, no I/O) for each layout's codec.

Before any timing the input is read once (warming the page cache) and its checksum (sum of
all uint16 values, wrapping uint64) computed; every read must reproduce it, and every
written array must have exactly the requested layout, or the run prints FAIL and exits 1.
Outputs go to a temporary folder next to the cached input (same disk); each output is
deleted once it has been read back and the folder at the end (--keep keeps them). Before
each step sync(2) flushes earlier steps' dirty pages so no tool pays for another's writes;
no tool fsyncs its own output (tensorstore's file_io_sync is turned off to match).
Results are also written as JSON to Benchmarks/.cache/last-bench.json.
All timings in one run share the machine's noise; compare the ratios, not absolutes.
"""
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_input  # noqa: E402
from harness.layouts import expected_metadata, layout_differences, normalised_metadata  # noqa: E402
from harness.process import last_json_line, run_measured  # noqa: E402
from harness.report import count_objects, format_table  # noqa: E402
from harness.section import Section  # noqa: E402

ALL_LAYOUTS = ("v3-blosc-zstd-sharded", "v2-blosc-lz4")
ALL_TOOLS = ("tessera", "zarr-python", "tensorstore")
PEERS = ("zarr-python", "tensorstore")
SMALL_SHAPE = (32, 512, 512)
FLOOR_CNAME = {"v3-blosc-zstd-sharded": "zstd", "v2-blosc-lz4": "lz4"}
MB = 1e6
MiB = 2 ** 20


class IoBench(Section):
    progress_width = 48

    def __init__(self, args):
        super().__init__(args)
        self.rows = {}  # (layout, tool, op) -> row
        self.floor_supported = None

    def record(self, layout, tool, op, res, child, extra=None):
        key = (layout, tool, op)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = {"layout": layout, "tool": tool, "op": op, "runs": [],
                                    "seconds": None, "peak_rss_mib": 0.0, "peak_anon_mib": 0.0}
        run = {"seconds": res["seconds"], "peak_rss_mib": child["maxrss_kib"] / 1024,
               "peak_anon_mib": child["peak_anon_kib"] / 1024, "wall_seconds": child["wall"]}
        if extra:
            run.update(extra)
        row["runs"].append(run)
        row["seconds"] = min(r["seconds"] for r in row["runs"])  # best of N
        row["peak_rss_mib"] = max(row["peak_rss_mib"], run["peak_rss_mib"])  # worst of N
        row["peak_anon_mib"] = max(row["peak_anon_mib"], run["peak_anon_mib"])
        row["mb_per_s"] = self.nbytes / row["seconds"] / MB if row["seconds"] > 0 else None
        if extra:
            row.update(extra)
        return row

    def progress_of(self, what, child, res):
        if res is not None:
            msg = f"{res['seconds']:8.3f} s  {self.nbytes / res['seconds'] / MB:8.1f} MB/s" if res["seconds"] > 0 else ""
            msg += f"  rss {child['maxrss_kib'] / 1024:7.1f} MiB  anon {child['peak_anon_kib'] / 1024:7.1f} MiB"
        else:
            msg = "failed"
        self.progress(what, msg)

    def command(self, tool, op, layout, out):
        a = self.args
        shape = ",".join(map(str, self.shape))
        jobs = ["--jobs", str(a.jobs)]
        if tool == "tessera":
            base = [str(a.tessera_bench)]
        else:
            base = [sys.executable, str(HERE / "peers.py")]
        if op == "write":
            cmd = base + ["write"] + ([] if tool == "tessera" else ["--tool", tool]) + \
                  ["--raw", str(self.raw), "--shape", shape, "--layout", layout, "--out", str(out)] + jobs
        else:
            cmd = base + ["read"] + ([] if tool == "tessera" else ["--tool", tool]) + ["--out", str(out)] + jobs
        return cmd

    def run_step(self, what, cmd, want_tool, want_op):
        if self.args.sync:
            os.sync()  # earlier steps' dirty pages must not be flushed on this step's clock
        child = run_measured(cmd, self.args.timeout)
        res = last_json_line(child["stdout"])
        problem = None
        if child["rc"] != 0:
            problem = f"exit status {child['rc']}"
        elif res is None:
            problem = "no JSON line on stdout"
        elif res.get("tool") != want_tool or res.get("op") != want_op:
            problem = f"unexpected JSON line {res}"
        elif not isinstance(res.get("seconds"), (int, float)) or res["seconds"] <= 0:
            problem = f"bad seconds in {res}"
        elif res.get("bytes") != self.nbytes:
            problem = f"reported {res.get('bytes')} bytes, the input has {self.nbytes}"
        if problem:
            tail = (child["stderr"].strip() or child["stdout"].strip())[-2000:]
            self.progress_of(what, child, None)
            return child, None, f"{what}: {problem}\n  command: {' '.join(cmd)}\n  output: {tail}"
        self.progress_of(what, child, res)
        if res.get("version"):
            self.versions[want_tool] = res["version"]
        return child, res, None

    def run_floor(self, layout):
        cname = FLOOR_CNAME[layout]
        cmd = [str(self.args.tessera_bench), "floor", "--raw", str(self.raw),
               "--shape", ",".join(map(str, self.shape)), "--cname", cname, "--jobs", str(self.args.jobs)]
        what = f"{layout} floor ({cname})"
        if self.floor_supported is False:
            return
        if self.args.sync:
            os.sync()
        child = run_measured(cmd, self.args.timeout)
        if child["rc"] != 0 and "usage" in (child["stderr"] + child["stdout"]).lower():
            self.floor_supported = False
            self.progress(what, "not supported by this tessera-bench; no floor rows")
            return
        self.floor_supported = True
        res = last_json_line(child["stdout"])
        if child["rc"] != 0 or res is None or res.get("tool") != "floor" or not res.get("seconds"):
            self.progress_of(what, child, None)
            self.fail(f"{what}: exit status {child['rc']}: {(child['stderr'] or child['stdout']).strip()[-2000:]}")
            return
        if res.get("bytes") != self.nbytes:
            self.fail(f"{what}: reported {res.get('bytes')} bytes, the input has {self.nbytes}")
        self.progress_of(what, child, res)
        self.record(layout, "floor", "compress", res, child, {"cname": cname})

    def run_tool(self, layout, tool, rep):
        out = self.outdir / f"{layout}-{tool}-{rep}.zarr"
        # write
        child, res, problem = self.run_step(f"{layout} {tool} write", self.command(tool, "write", layout, out),
                                            tool, "write")
        if problem:
            self.fail(problem)
            shutil.rmtree(out, ignore_errors=True)
            return
        objects, size = count_objects(out)
        got = normalised_metadata(out)
        want = expected_metadata(layout, self.shape)
        diffs = ["no zarr.json / .zarray written"] if got is None else layout_differences(got, want)
        extra = {"objects": objects, "out_bytes": size, "layout_ok": not diffs}
        if diffs:
            self.fail(f"{layout} {tool} wrote a different layout than requested:\n    " + "\n    ".join(diffs))
            extra["layout_differences"] = diffs
        self.record(layout, tool, "write", res, child, extra)
        # read
        child, res, problem = self.run_step(f"{layout} {tool} read", self.command(tool, "read", layout, out),
                                            tool, "read")
        if problem:
            self.fail(problem)
        else:
            checksum = res.get("checksum")
            ok = checksum == self.checksum
            if not ok:
                self.fail(f"{layout} {tool} read checksum {checksum} != input checksum {self.checksum}")
            self.record(layout, tool, "read", res, child, {"checksum": checksum, "checksum_ok": ok,
                                                           "objects": objects, "out_bytes": size})
        if not self.args.keep:
            shutil.rmtree(out, ignore_errors=True)

    def measure(self):
        a = self.args
        self.shape = a.shape
        self.nbytes = a.shape[0] * a.shape[1] * a.shape[2] * 2
        self.raw, self.checksum = make_input.checked_input(self.shape)
        do_floor = "tessera" in a.tools and not a.no_floor
        per_layout = 2 * len(a.tools) + (1 if do_floor else 0)
        self.steps_total = a.repeat * len(a.layouts) * per_layout
        with self.workdir("run-", self.raw.parent) as self.outdir:
            for rep in range(a.repeat):
                for layout in a.layouts:
                    if do_floor:
                        self.run_floor(layout)
                    for tool in a.tools:
                        self.run_tool(layout, tool, rep)

    # ------------------------------------------------------------------------- reporting

    def ratios(self):
        out = []
        for layout in self.args.layouts:
            for op in ("write", "read"):
                t = self.rows.get((layout, "tessera", op))
                if not t or not t.get("mb_per_s"):
                    continue
                for peer in PEERS:
                    p = self.rows.get((layout, peer, op))
                    if p and p.get("mb_per_s"):
                        out.append({"layout": layout, "op": op, "vs": peer,
                                    "ratio": t["mb_per_s"] / p["mb_per_s"]})
                if op == "write":
                    f = self.rows.get((layout, "floor", "compress"))
                    if f and f.get("mb_per_s"):
                        out.append({"layout": layout, "op": op, "vs": f"floor ({f['cname']})",
                                    "ratio": t["mb_per_s"] / f["mb_per_s"]})
        return out

    def table_lines(self):
        a = self.args
        lines = []
        shape = "x".join(map(str, self.shape))
        lines.append(f"Tessera benchmark: {shape} uint16 ({self.nbytes / MiB:.0f} MiB), {self.conditions()}")
        lines.append("MB/s = input bytes / seconds, MB = 10^6 B; RSS in MiB (2^20 B); "
                     "peak RSS = ru_maxrss (includes mapped input pages), anon = sampled RssAnon")
        hdr = ("layout", "tool", "op", "seconds", "MB/s", "peak RSS", "anon", "objects", "bytes", "check")
        rows = []
        order = ["floor"] + list(ALL_TOOLS)
        for layout in a.layouts:
            for tool in order:
                for op in ("compress", "write", "read"):
                    r = self.rows.get((layout, tool, op))
                    if not r:
                        continue
                    check = ""
                    if op == "read":
                        check = "ok" if r.get("checksum_ok") else "FAIL"
                    elif op == "write":
                        check = "layout ok" if r.get("layout_ok") else "LAYOUT FAIL"
                    name = f"floor-{r['cname']}" if tool == "floor" else tool
                    rows.append((layout, name, op, f"{r['seconds']:.3f}", f"{r['mb_per_s']:.1f}",
                                 f"{r['peak_rss_mib']:.0f}", f"{r['peak_anon_mib']:.0f}",
                                 str(r.get("objects", "")) if op == "write" else "",
                                 str(r.get("out_bytes", "")) if op == "write" else "", check))
        right = {3, 4, 5, 6, 7, 8}
        lines += format_table(hdr, rows, right)
        rat = self.ratios()
        if rat:
            lines.append("")
            lines.append("Ratios: tessera MB/s / other MB/s (> 1: tessera faster)")
            for layout in a.layouts:
                for op in ("write", "read"):
                    parts = [f"vs {x['vs']} {x['ratio']:.2f}x" for x in rat if x["layout"] == layout and x["op"] == op]
                    if parts:
                        lines.append(f"  {layout:<22} {op:<5}  " + "   ".join(parts))
        if self.floor_supported is False:
            lines.append("(no floor rows: this tessera-bench has no 'floor' mode)")
        return lines

    def document(self):
        a = self.args
        return {
            "tessera_bench": str(a.tessera_bench),
            "versions": self.versions,
            "input": make_input.describe(self.raw, self.shape, self.checksum),
            "jobs": a.jobs, "repeat": a.repeat, "layouts": list(a.layouts), "tools": list(a.tools),
            "units": {"mb_per_s": "input bytes / seconds / 1e6", "rss": "MiB (2^20 bytes)",
                      "seconds": "best of repeat, as measured inside the child"},
            "floor_supported": self.floor_supported,
            "results": list(self.rows.values()),
            "ratios": self.ratios(),
        }
