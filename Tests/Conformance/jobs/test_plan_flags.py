"""The convert options `tessera plan` records are the ones `tessera convert` takes, parsed
by one option group: job.json keeps those given a non-default value, and `tessera run`
turns them back into the same conversion (byte for byte). A recorded option Tessera does
not know, or a value the parser refuses, is one clear error and nothing written."""

from __future__ import annotations

import filecmp
import json

import pytest

import convert_inputs as ci
from plan_support import load_manifest

FLAGS = ["--ngff", "0.4", "--chunks", "16", "--codec", "zstd", "--level", "5", "--downsample", "max",
         "--no-downsample-z", "--pages-as", "t"]


def same_tree(a, b) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in cmp.common_dirs)


@pytest.fixture
def planned(run_tessera, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    ci.write_tiff_pages(src / "st.tif", ci.pixels("uint16", (6, 80, 90), seed=4))
    job = tmp_path / "job.json"
    run_tessera("plan", src, "--output", tmp_path / "out", "--tasks", 1, "-o", job, *FLAGS, check=True)
    return src, job


def test_recorded_options_convert_as_convert_does(planned, run_tessera, tmp_path):
    src, job = planned
    m = load_manifest(job)
    assert m["convert"] == {"ngff": "0.4", "chunks": "16", "codec": "zstd", "level": "5", "downsample": "max",
                            "no-downsample-z": "true", "pages-as": "t"}
    run_tessera("run", job, "--task", 0, check=True)
    run_tessera("convert", src / "st.tif", tmp_path / "ref.ome.zarr", *FLAGS, check=True)
    assert same_tree(tmp_path / "ref.ome.zarr", tmp_path / "out" / "st.ome.zarr")


def test_defaults_are_not_recorded(run_tessera, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    ci.write_tiff(src / "a.tif", ci.pixels("uint8", (20, 20), seed=1), "yx")
    run_tessera("plan", src, "--output", tmp_path / "out", "--tasks", 1, "-o", tmp_path / "job.json",
                "--ngff", "0.5", "--pages-as", "z", check=True)
    assert load_manifest(tmp_path / "job.json")["convert"] == {}


def test_a_given_codec_is_recorded_even_when_it_is_the_usual_default(run_tessera, tmp_path):
    # 8-bit RGB has its own default codec, so `--codec blosc-zstd` is a choice, not the default.
    src = tmp_path / "in"
    src.mkdir()
    ci.write_tiff(src / "a.tif", ci.pixels("uint8", (20, 20), seed=1), "yx")
    run_tessera("plan", src, "--output", tmp_path / "out", "--tasks", 1, "-o", tmp_path / "job.json",
                "--codec", "blosc-zstd", check=True)
    assert load_manifest(tmp_path / "job.json")["convert"] == {"codec": "blosc-zstd"}


@pytest.mark.parametrize("change, message", [
    ({"bogus": "1"}, "job convert option 'bogus' is not a convert option Tessera knows"),
    ({"no-downsample-z": "yes"}, "job convert option 'no-downsample-z' takes no value: it must be \"true\", not 'yes'"),
    ({"codec": "lzma9"}, "unknown --codec 'lzma9'"),
    ({"ngff": "--help"}, "--ngff must be 0.4 or 0.5"),
])
def test_a_recorded_option_run_cannot_parse_is_one_error(change, message, planned, run_tessera, tmp_path):
    _, job = planned
    m = json.loads(job.read_text())
    m["convert"].update(change)
    job.write_text(json.dumps(m))
    proc = run_tessera("run", job, "--task", 0)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tessera: error: ") and message in lines[0], proc.stderr
    assert not (tmp_path / "out").exists()
