"""Bad HDF4 input to `tessera convert`: one line on stderr naming the file (and the
dataset where there is one), a non-zero exit without a crash, nothing marked complete."""

from __future__ import annotations

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import hdf4_inputs as h4

YX = (64, 64)


def two_sds(tmp, compress=None):
    specs = [h4.SDSSpec("alpha", ci.pixels("uint16", YX, kind="smooth"), compress=compress),
             h4.SDSSpec("beta", ci.pixels("float32", (2, *YX)), compress=compress)]
    return h4.write_hdf4(tmp / "two.hdf", specs)


def missing_name(tmp):
    src = two_sds(tmp)
    return f"{src.file}:gamma", [src.file.name, "gamma", "alpha", "beta"]


def missing_index(tmp):
    src = two_sds(tmp)
    return f"{src.file}:7", [src.file.name, "'7'", "alpha", "beta"]


def one_dimensional(tmp):
    src = h4.write_hdf4(tmp / "profile.hdf", [h4.SDSSpec("line", np.arange(50, dtype=np.int16)),
                                              h4.SDSSpec("img", ci.pixels("int16", YX))])
    return f"{src.file}:line", [src.file.name, "line", "dimensions"]


def no_image(tmp):
    src = h4.write_hdf4(tmp / "lines.hdf", [h4.SDSSpec("line", np.arange(50, dtype=np.int16))])
    return str(src.file), [src.file.name, "no image SDS", "line"]


def truncated(tmp):
    src = two_sds(tmp)
    blob = src.file.read_bytes()
    src.file.write_bytes(blob[: len(blob) * 2 // 3])
    return str(src.file), [src.file.name]


def corrupt_deflate(tmp):
    # The deflate stream of each SDS overwritten with garbage (found by its zlib header).
    src = two_sds(tmp, compress="deflate")
    blob = bytearray(src.file.read_bytes())
    hits = 0
    for at in range(len(blob) - 2):
        if blob[at] == 0x78 and blob[at + 1] in (0x01, 0x5E, 0x9C, 0xDA) and hits < 2:
            blob[at + 2: at + 66] = bytes(range(7, 7 + 64 * 3, 3))
            hits += 1
    assert hits == 2
    src.file.write_bytes(bytes(blob))
    return str(src.file), [src.file.name]


def bad_magic_tail(tmp):
    # The HDF4 magic followed by garbage: not a readable HDF4 file.
    p = tmp / "fake.hdf"
    p.write_bytes(bytes([0x0E, 0x03, 0x13, 0x01]) + bytes(range(256)) * 8)
    return str(p), [p.name, "HDF4"]


CASES = [missing_name, missing_index, one_dimensional, no_image, truncated, corrupt_deflate, bad_magic_tail]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_hdf4_bad_input(case, run_convert, tmp_path):
    arg, names = case(tmp_path)
    out = tmp_path / "out.ome.zarr"
    proc = run_convert("convert", arg, str(out), "--chunks", "16")
    cc.assert_clean_failure(proc, names, case.__name__, out)
