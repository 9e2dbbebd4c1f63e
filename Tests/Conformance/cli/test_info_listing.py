"""`tessera info` over stores of many objects: the listing is walked a page at a time
(`TESSERA_LIST_PAGE_SIZE` forces small pages on a folder and on S3), `--summary` gives
objects and bytes per array exactly, progress goes to stderr while stdout keeps only the
answer, and peak memory does not grow with the number of objects."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import many_objects as mo

BUCKET = "tessera-listing"


def info(binary, *args, env=None, timeout=120):
    run_env = dict(os.environ)
    run_env.update(env or {})
    return subprocess.run([str(binary), "info", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=run_env)


def summary_totals(proc):
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    return {a["path"]: (a["objects"], a["stored_bytes"]) for a in doc["arrays"]}, \
        (doc["outside_arrays"]["objects"], doc["outside_arrays"]["stored_bytes"]), (doc["objects"], doc["stored_bytes"])


def expected_totals(totals):
    arrays = dict(totals["arrays"])
    everything = [sum(v[0] for v in arrays.values()) + totals["outside"][0],
                  sum(v[1] for v in arrays.values()) + totals["outside"][1]]
    return arrays, totals["outside"], tuple(everything)


LAYOUT = {"0": 2500, "1": 700, "labels/cells": 45}
EXTRA = {"README.txt": b"not zarr\n", "labels/zarr.json": mo.group_document()}


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A local group of 3,250 chunks in three arrays (two of them beyond one 1,000-entry
    page), a subgroup and a stray file, with the totals info must report."""
    root = tmp_path_factory.mktemp("many") / "many.zarr"
    objects, totals = mo.layout(LAYOUT, cols=100, chunk=b"\x01\x02\x03", extra=EXTRA)
    mo.write_folder(root, objects)
    return root, totals


@pytest.mark.parametrize("page_size", [None, "7", "1000"])
def test_summary_totals_are_exact_at_any_page_size(many, tessera_bin, page_size):
    root, totals = many
    env = {"TESSERA_LIST_PAGE_SIZE": page_size} if page_size else {}
    got = summary_totals(info(tessera_bin, root, "--summary", "--json", env=env))
    assert got == expected_totals(totals)
    # The full report counts the same.
    full = info(tessera_bin, root, "--json", env=env)
    assert full.returncode == 0, full.stderr
    doc = json.loads(full.stdout)
    assert (doc["objects"], doc["stored_bytes"]) == got[2]
    per_node = {n["path"]: (n["objects"], n["stored_bytes"]) for n in doc["nodes"] if n["node_type"] == "array"}
    assert per_node == got[0]


def test_summary_text_adds_up(many, tessera_bin):
    root, totals = many
    proc = info(tessera_bin, root, "--summary")
    assert proc.returncode == 0, proc.stderr
    arrays, outside, everything = expected_totals(totals)
    lines = proc.stdout.splitlines()
    assert lines[0] == str(root)
    for path, (n, _) in arrays.items():
        assert any(line.startswith(f"array {path}: {n} objects, ") for line in lines), proc.stdout
    assert f"outside arrays: {outside[0]} objects, {outside[1]} B" in lines
    assert lines[-1].startswith(f"total: {everything[0]} objects, ")
    # No shapes or codecs: that is the full report's.
    assert "codecs" not in proc.stdout and "shape" not in proc.stdout


def test_progress_goes_to_stderr_and_stdout_stays_the_answer(many, tessera_bin):
    root, totals = many
    quiet = info(tessera_bin, root)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr  # a short listing prints no progress
    loud = info(tessera_bin, root, "--progress-interval", "0", env={"TESSERA_LIST_PAGE_SIZE": "500"})
    assert loud.returncode == 0, loud.stderr
    assert loud.stdout == quiet.stdout
    everything = expected_totals(totals)[2]
    counts = [int(m.group(1)) for m in re.finditer(r"^info: listing… (\d+) objects", loud.stderr, re.M)]
    assert len(counts) == -(-everything[0] // 500), loud.stderr  # one line per page
    assert counts == sorted(counts) and counts[-1] == everything[0]
    assert re.search(rf"^info: listed {everything[0]} objects, ", loud.stderr, re.M), loud.stderr


@pytest.mark.parametrize("bad", ["-1", "nan", "soon"])
def test_a_bad_progress_interval_is_one_clear_error(many, tessera_bin, bad):
    proc = info(tessera_bin, many[0], f"--progress-interval={bad}")
    assert proc.returncode != 0 and proc.stdout == ""
    assert "--progress-interval" in proc.stderr or "progress-interval" in proc.stderr, proc.stderr


def peak_rss_kib(cmd):
    """ru_maxrss of `cmd` alone (spawned from a tiny launcher, so the test process's own
    high-water mark is not inherited)."""
    launcher = ("import os, sys\npid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)\n"
                "_, status, usage = os.wait4(pid, 0)\nprint(os.waitstatus_to_exitcode(status), usage.ru_maxrss)")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", launcher, *map(str, cmd)], capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    rc, rss = out.stdout.split()[-2:]
    assert rc == "0", out
    return int(rss)


def test_memory_does_not_grow_with_the_objects(tessera_bin, tmp_path):
    """60,000 objects under long keys against 6,000: the peak grows by far less than the
    listing would take held whole (~100 bytes a key; before paging it grew by ~10 MiB)."""
    deep = "plate.ome.zarr/row-A/column-01/field-0000"
    small, large = tmp_path / "small", tmp_path / "large"
    for root, n in ((small, 6_000), (large, 60_000)):
        objects, _ = mo.layout({deep: n}, chunk=b"")
        mo.write_folder(root, objects, threads=4)
    rss_small = peak_rss_kib([tessera_bin, "info", small, "--summary"])
    rss_large = peak_rss_kib([tessera_bin, "info", large, "--summary"])
    # Holding 54,000 more entries of ~50-byte keys would add well over 5 MiB.
    assert rss_large - rss_small < 3 * 1024, (rss_small, rss_large)


@pytest.mark.parametrize("page_size", ["10", None])
def test_s3_listing_in_small_pages_equals_the_whole(s3_env, tessera_bin, page_size):
    prefix = f"paged-{page_size}-{os.getpid()}.zarr"
    objects, totals = mo.layout({"0": 230, "labels/cells": 40}, cols=50, chunk=b"\x05\x06", extra=EXTRA)
    mo.put_s3(s3_env.endpoint, BUCKET, prefix, objects)
    env = {"TESSERA_LIST_PAGE_SIZE": page_size} if page_size else {}
    url = f"s3://{BUCKET}/{prefix}"
    got = summary_totals(info(tessera_bin, url, "--summary", "--json", env=env))
    assert got == expected_totals(totals)
    loud = info(tessera_bin, url, "--progress-interval", "0", env=env)
    assert loud.returncode == 0, loud.stderr
    pages = len(re.findall(r"^info: listing… ", loud.stderr, re.M))
    assert pages == (-(-got[2][0] // 10) if page_size else 1), loud.stderr
