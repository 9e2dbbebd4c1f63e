#!/usr/bin/env python3
"""`make bench`: Tessera vs zarr-python 3 and tensorstore, same run, same input.

    python Benchmarks/run_bench.py [--sections io,convert,s3,gateway,soak,jobs,memory,slide] [--small | --shape Z,Y,X]
                                   [--repeat N] [--jobs N] [--layouts L,...] [--tools T,...]
                                   [--convert-tools T,...] [--convert-variants V,...]
                                   [--memory-check] [--tessera-bench PATH] [--tessera PATH]
                                   [--gateway-duration S] [--gateway-connections N]

These sections, all by default:
  io       Benchmarks/io_bench.py: write and read back one Zarr array with tessera-bench,
           zarr-python 3 and tensorstore (two layouts), with the compress-only floor.
           Results go to Benchmarks/.cache/last-bench.json.
  convert  Benchmarks/convert_bench.py: `tessera convert` of a tiled TIFF to a full NGFF
           pyramid vs ngff-zarr, a tensorstore script (and bioformats2raw when installed),
           with the compress-only floor; --memory-check adds the 4 GiB BigTIFF peak-RSS
           check. See that file's docstring; its results go to
           Benchmarks/.cache/last-convert-bench.json.
  s3       Benchmarks/s3_bench.py: write the same array (v3-blosc-zstd-sharded) to a local
           S3 server (moto_server, started and stopped by the bench), tessera copy vs
           zarr-python 3 + s3fs vs tensorstore's s3 kvstore: MB/s, requests per object by
           method, peak RSS, every output read back and checked. --tools applies to it too;
           --small runs it on 64x512x512 (the 64-deep shards then fit the array in every
           tool). Results go to Benchmarks/.cache/last-s3-bench.json.
  gateway  Benchmarks/gateway_bench.py: `tessera serve` vs nginx (same folder, same headers,
           both on 127.0.0.1) under wrk -t2 -c64 -d10s: whole 64 KiB chunk GETs, 64 KiB
           inner-chunk ranges of 4 MiB shards, shard-index suffix ranges and 404s; req/s,
           p50/p99 latency, errors, server CPU per request and RSS, every workload's answers
           checked byte for byte first. Needs wrk and nginx (apt-get install wrk nginx);
           --small runs it with 3 s runs. Results go to Benchmarks/.cache/last-gateway-bench.json.
  soak     Benchmarks/gateway_soak.py: `tessera serve` at descriptor limits 4096 and 256 under
           10,000 idle connections + 500 slowloris + wrk -c256 for 60 s: the server stays up,
           wrk's requests succeed, idle and slow connections are closed by their timeouts,
           RSS returns within 10 % of its start. --small runs it for 20 s with a tenth of the
           idle connections. Results go to Benchmarks/.cache/last-gateway-soak.json.
  jobs     Benchmarks/jobs_bench.py: `tessera plan` over 100,000 tiny files (time, task
           balance), and a 200-image mixed job plan -> run (2 tasks) -> report: CPU-hours and
           objects per TB, output/input bytes, next to `plan --estimate`'s prediction, with
           ngff-zarr's CPU on the same TIFFs. --small: 10,000 files, 40 images. Results go to
           Benchmarks/.cache/last-jobs-bench.json.
  listing  Benchmarks/listing_bench.py: `tessera info --summary` over a folder store of
           1,000,000 objects and an S3 prefix (moto) of 100,000: peak RSS (goal < 100 MiB),
           progress lines on stderr, totals checked exact. --small: 100,000 and 10,000.
           Results go to Benchmarks/.cache/last-listing-bench.json.
  durability  Benchmarks/durability_bench.py: `tessera convert` of the 1 GiB input with and
           without --no-fsync (wall s: the cost of fsync), and `tessera copy` of a sharded
           4 GiB image to smaller chunks with its count of decoded source chunks, required
           to equal the inner chunks stored. --small: 32x512x512 and 64x512x512. Results go
           to Benchmarks/.cache/last-durability-bench.json.
  memory   Benchmarks/memory_bench.py: peak RSS of `tessera convert` (NGFF 0.5, default
           shards) on 1, 4 and 16 GiB uint16 TIFF/BigTIFF inputs (the 16 GiB one generated
           quickly and deleted after), and of the 1 GiB conversion to a local S3 server (moto)
           against the local one; goals: flat within 15 %, under 300 MiB, S3 within 20 %.
           --small: 16, 64 and 256 MiB. Results go to Benchmarks/.cache/last-memory-bench.json.
  resume   Benchmarks/resume_bench.py: on the 4 GiB BigTIFF of the memory check, a first
           conversion vs a second `--resume` of the finished output (goal < 5 % of the first),
           and a resume after one kill -9: its time, the source blocks it read, and its output
           byte-identical. --small: 64x512x512. Results go to Benchmarks/.cache/last-resume-bench.json.
  slide    Benchmarks/slide_bench.py: a 32768x24576 RGB SVS (2.4 GB of pixels in 256² JPEG
           tiles, Benchmarks/make_slide.py, cached) converted by `tessera convert` and by a
           peer script (Benchmarks/slide_peer.py: openslide-python reading regions +
           tensorstore writing the same pyramid, chunks, shards and codec): wall s, CPU s
           per gigapixel, peak RSS, output/input bytes, objects, outputs compared, ratios and
           goals, and the 17,000-slide extrapolation. --small: 8192x6144. Results go to
           Benchmarks/.cache/last-slide-bench.json.
  render   Benchmarks/render_bench.py: 1,000 thumbnails of different 512² uint16 images
           through `tessera serve --render-cache` (cold, then cached; concurrency 4), and
           1024² region renders (PNG, JPEG q90) of an 8192² uint16 image at concurrency 2 vs
           the Python peer (Benchmarks/render_peer.py: zarr-python + numpy + Pillow, 2
           processes): per second, p50/p99, ratios (goal >= 5x). --small: 100 images, 4096².
           Results go to Benchmarks/.cache/last-render-bench.json.
  catalog  Benchmarks/catalog_bench.py: 100,000 synthetic datasets (~60 harvested rows each)
           in SQLite and PostgreSQL (a throwaway server from scripts/pg-test.sh), each behind
           `tessera serve`: p50/p99 latency of GET /api/datasets per search element type (text
           contains/prefix/exact, range, date range, select, cone, free text); goal p99 < 50 ms
           on SQLite. --small: 5,000 datasets. Results go to Benchmarks/.cache/last-catalog-bench.json.
The exit status is 1 if any section failed. Every section stands on Benchmarks/harness/
(process measurement, the section skeleton, results and tables, the server launchers
shared with Tests/Conformance/support/).
"""
import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import make_input  # noqa: E402
from harness.report import csv_choice  # noqa: E402
from harness.section import check_counts, run_section  # noqa: E402
from io_bench import ALL_LAYOUTS, ALL_TOOLS, SMALL_SHAPE, IoBench  # noqa: E402

ALL_SECTIONS = ("io", "convert", "s3", "gateway", "soak", "jobs", "listing", "durability", "memory", "resume", "slide",
                "render", "catalog")


def common_argv(args):
    """The options the convert and s3 sections take as we do: size (--small gives each
    section its own small shape), repeat, jobs, timeout, tessera, sync."""
    argv = []
    if args.small:
        argv.append("--small")
    elif args.shape_given:
        argv += ["--shape", ",".join(map(str, args.shape))]
    argv += ["--repeat", str(args.repeat), "--jobs", str(args.jobs), "--timeout", str(args.timeout),
             "--tessera", str(args.tessera)]
    if not args.sync:
        argv.append("--no-sync")
    return argv


def convert_argv(args):
    """The arguments of Benchmarks/convert_bench.py for the `convert` section, from ours."""
    argv = common_argv(args) + ["--tessera-bench", str(args.tessera_bench)]
    if args.convert_tools:
        argv += ["--tools", ",".join(args.convert_tools)]
    if args.convert_variants:
        argv += ["--variants", ",".join(args.convert_variants)]
    for flag, on in (("--memory-check", args.memory_check), ("--no-floor", args.no_floor), ("--keep", args.keep)):
        if on:
            argv.append(flag)
    return argv


def s3_argv(args):
    """The arguments of Benchmarks/s3_bench.py for the `s3` section, from ours."""
    return common_argv(args) + ["--tools", ",".join(args.tools)]


def gateway_argv(args):
    """The arguments of Benchmarks/gateway_bench.py for the `gateway` section, from ours."""
    argv = ["--tessera", str(args.tessera)]
    if args.small:
        argv.append("--quick")  # 3 s runs, 1 s warm-up
    if args.gateway_duration:
        argv += ["--duration", str(args.gateway_duration)]
    if args.gateway_connections:
        argv += ["--connections", str(args.gateway_connections)]
    argv += ["--repeat", str(args.repeat)]
    if args.keep:
        argv.append("--keep")
    return argv


def soak_argv(args):
    """The arguments of Benchmarks/gateway_soak.py for the `soak` section, from ours."""
    argv = ["--tessera", str(args.tessera)]
    if args.small:
        argv += ["--duration", "20", "--idle", "1000", "--slow", "100"]
    return argv


def jobs_argv(args):
    """The arguments of Benchmarks/jobs_bench.py for the `jobs` section, from ours."""
    argv = ["--tessera", str(args.tessera), "--timeout", str(args.timeout)]
    if args.small:
        argv.append("--small")
    if args.keep:
        argv.append("--keep")
    return argv


def listing_argv(args):
    """The arguments of Benchmarks/listing_bench.py for the `listing` section, from ours."""
    argv = ["--tessera", str(args.tessera), "--timeout", str(args.timeout)]
    if args.small:
        argv.append("--small")
    if args.keep:
        argv.append("--keep")
    return argv


def durability_argv(args):
    """The arguments of Benchmarks/durability_bench.py for the `durability` section, from ours."""
    argv = ["--tessera", str(args.tessera), "--jobs", str(args.jobs), "--repeat", str(args.repeat), "--timeout", str(args.timeout)]
    for flag, on in (("--small", args.small), ("--no-sync", not args.sync), ("--keep", args.keep)):
        if on:
            argv.append(flag)
    return argv


def memory_argv(args):
    """The arguments of Benchmarks/memory_bench.py for the `memory` section, from ours."""
    argv = ["--jobs", str(args.jobs), "--timeout", str(args.timeout), "--tessera", str(args.tessera)]
    if args.small:
        argv.append("--small")
    if not args.sync:
        argv.append("--no-sync")
    return argv


def slide_argv(args):
    """The arguments of Benchmarks/slide_bench.py for the `slide` section, from ours."""
    argv = ["--tessera", str(args.tessera), "--jobs", str(args.jobs), "--timeout", str(args.timeout)]
    for flag, on in (("--small", args.small), ("--keep", args.keep)):
        if on:
            argv.append(flag)
    return argv


def catalog_argv(args):
    """The arguments of Benchmarks/catalog_bench.py for the `catalog` section, from ours."""
    argv = ["--tessera", str(args.tessera)]
    for flag, on in (("--small", args.small), ("--keep", args.keep)):
        if on:
            argv.append(flag)
    return argv


def main(argv=None):
    import catalog_bench
    import convert_bench
    import durability_bench
    import gateway_bench
    import gateway_soak
    import jobs_bench
    import listing_bench
    import memory_bench
    import resume_bench
    import s3_bench
    import slide_bench
    import render_bench
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", type=csv_choice(ALL_SECTIONS), default=ALL_SECTIONS,
                    help="comma-separated, default: io,convert,s3,gateway. io = Benchmarks/io_bench.py (write and read back one array); "
                         "convert = Benchmarks/convert_bench.py (tessera convert vs ngff-zarr, tensorstore, ...); "
                         "s3 = Benchmarks/s3_bench.py (the same array written to a local S3 server); "
                         "gateway = Benchmarks/gateway_bench.py (tessera serve vs nginx under wrk); "
                         "soak = Benchmarks/gateway_soak.py (tessera serve under a connection flood at low descriptor limits); "
                         "jobs = Benchmarks/jobs_bench.py (tessera plan over 100,000 files; a 200-image job plan -> run -> report vs its --estimate); "
                         "listing = Benchmarks/listing_bench.py (tessera info over 10^6 local and 10^5 S3 objects: peak RSS, progress); "
                         "durability = Benchmarks/durability_bench.py (convert with fsync on and off; decodes of a sharded copy); "
                         "memory = Benchmarks/memory_bench.py (peak RSS of tessera convert at 1, 4, 16 GiB, and to S3); "
                         "resume = Benchmarks/resume_bench.py (a finished 4 GiB conversion resumed, and a resume after kill -9); "
                         "slide = Benchmarks/slide_bench.py (a 2.4 GB-of-pixels SVS: tessera convert vs openslide-python + tensorstore); "
                         "render = Benchmarks/render_bench.py (thumbnails cold/cached; 1024² region renders vs zarr-python + Pillow)")
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true",
                      help="quick smoke run on %s instead of the 1 GiB input" % "x".join(map(str, SMALL_SHAPE)))
    size.add_argument("--shape", type=make_input.parse_shape, help="input shape Z,Y,X (default 128,2048,2048)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per step; the best time is kept (default 1)")
    ap.add_argument("--layouts", type=csv_choice(ALL_LAYOUTS), default=ALL_LAYOUTS,
                    help="io: comma-separated, default: " + ",".join(ALL_LAYOUTS))
    ap.add_argument("--tools", type=csv_choice(ALL_TOOLS), default=ALL_TOOLS,
                    help="io and s3: comma-separated, default: " + ",".join(ALL_TOOLS))
    ap.add_argument("--convert-tools", type=csv_choice(convert_bench.ALL_TOOLS), default=None,
                    help="convert: comma-separated, default: " + ",".join(convert_bench.ALL_TOOLS))
    ap.add_argument("--convert-variants", type=csv_choice(tuple(convert_bench.VARIANTS)), default=None,
                    help="convert: comma-separated, default: " + ",".join(convert_bench.DEFAULT_VARIANTS))
    ap.add_argument("--memory-check", action="store_true",
                    help="convert: also convert a 4 GiB BigTIFF with tessera and require peak RSS < 1 GiB")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="threads per tool (default: os.cpu_count())")
    ap.add_argument("--tessera-bench", type=Path, default=REPO / ".build" / "release" / "tessera-bench",
                    help="path of the tessera-bench binary (default <repo>/.build/release/tessera-bench)")
    ap.add_argument("--tessera", type=Path, default=REPO / ".build" / "release" / "tessera",
                    help="convert, s3, gateway: path of the tessera binary (default <repo>/.build/release/tessera)")
    ap.add_argument("--gateway-duration", type=int, default=None,
                    help="gateway: seconds per wrk run (default 10; 3 with --small)")
    ap.add_argument("--gateway-connections", type=int, default=None, help="gateway: wrk connections (default 64)")
    ap.add_argument("--no-floor", action="store_true", help="skip the compress-only floor rows")
    ap.add_argument("--json", type=Path, default=HERE / ".cache" / "last-bench.json",
                    help="io: where to write the results (default Benchmarks/.cache/last-bench.json; "
                         "convert writes Benchmarks/.cache/last-convert-bench.json)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a child is killed (default 1800)")
    ap.add_argument("--no-sync", dest="sync", action="store_false",
                    help="do not sync(2) before each step (by default dirty pages are flushed off the clock)")
    ap.add_argument("--keep", action="store_true", help="keep the output folders (their path is printed)")
    args = ap.parse_args(argv)
    args.shape_given = args.shape is not None
    args.shape = SMALL_SHAPE if args.small else (args.shape or make_input.DEFAULT_SHAPE)
    check_counts(ap, args)
    args.tessera_bench = args.tessera_bench.resolve()
    if "io" in args.sections and "tessera" in args.tools and not os.access(args.tessera_bench, os.X_OK):
        ap.error(f"{args.tessera_bench} is missing; build it with "
                 f"`swift build -c release --product tessera-bench` (or `make release`), or pass --tessera-bench")

    runs = {"io": lambda: run_section(IoBench(args), args.json),
            "convert": lambda: convert_bench.main(convert_argv(args)),
            "s3": lambda: s3_bench.main(s3_argv(args)),
            "gateway": lambda: gateway_bench.main(gateway_argv(args)),
            "soak": lambda: gateway_soak.main(soak_argv(args)),
            "jobs": lambda: jobs_bench.main(jobs_argv(args)),
            "listing": lambda: listing_bench.main(listing_argv(args)),
            "durability": lambda: durability_bench.main(durability_argv(args)),
            "memory": lambda: memory_bench.main(memory_argv(args)),
            "resume": lambda: resume_bench.main((["--small"] if args.small else [])
                                                + ["--tessera", str(args.tessera), "--jobs", str(args.jobs)]),
            "slide": lambda: slide_bench.main(slide_argv(args)),
            "render": lambda: render_bench.main((["--small"] if args.small else []) + ["--tessera", str(args.tessera)]),
            "catalog": lambda: catalog_bench.main(catalog_argv(args))}
    rc = 0
    for i, name in enumerate(s for s in ALL_SECTIONS if s in args.sections):
        if i > 0:
            print("\n")
        sys.stdout.flush()
        rc = max(rc, runs[name]())
        if rc == 130:
            return rc
    return rc


if __name__ == "__main__":
    sys.exit(main())
