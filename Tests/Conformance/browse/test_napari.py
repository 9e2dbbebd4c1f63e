"""napari reads the gateway (issue 20, must show 3).

napari (PyPI `napari` + `napari-ome-zarr` + PyQt5, in its own venv `.venv-napari` made by
`scripts/setup.sh --python`) runs `napari_check.py` under Debian's Xvfb (Qt's offscreen
platform alone has no OpenGL). It opens the gateway URL of an NGFF 0.4 image and of an
NGFF 0.5 sharded one with `plugin="napari-ome-zarr"`:
- the layer is multiscale with as many levels as Tessera wrote; level 0 equals the source
  exactly and the last level equals Tessera's stored last level;
- a whole-window screenshot shows the image: where napari's camera puts the image's pixels,
  the screenshot's grey levels are the source through the layer's contrast limits
  (correlation > 0.95, mean error < 10 grey levels), not transposed, and not blank;
- napari's builtin reader refuses the remote group (documented napari behaviour: "Opening
  remote zarr Groups is not supported").
Nothing is skipped: a missing venv or xvfb-run fails. Xvfb and napari run in their own
process group, killed whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from browse_site import alpha_image, convert
from gateway_server import GatewayServer

REPO = Path(__file__).resolve().parents[3]
RUN_TIMEOUT = 600   # napari's import alone takes ~20 s on 2 loaded cores


def napari_python() -> str:
    path = os.environ.get("TESSERA_NAPARI_PYTHON") or str(REPO / ".venv-napari" / "bin" / "python")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no napari venv at {path}: run scripts/setup.sh --python (or set TESSERA_NAPARI_PYTHON)", pytrace=False)
    return path


def stored_last_level(image: Path) -> np.ndarray:
    import zarr

    group = zarr.open_group(str(image), mode="r")
    attrs = group.attrs.asdict()
    multiscales = attrs.get("ome", attrs)["multiscales"][0]
    return np.asarray(group[multiscales["datasets"][-1]["path"]]), len(multiscales["datasets"])


def test_napari_opens_gateway_images(tessera_bin, tmp_path):
    python = napari_python()
    xvfb = shutil.which("xvfb-run")
    if not xvfb:
        pytest.fail("xvfb-run not found: apt-get install xvfb (scripts/setup.sh)", pytrace=False)
    import tifffile

    source = alpha_image()
    tifffile.imwrite(tmp_path / "alpha.tif", source, photometric="minisblack")
    root = tmp_path / "root"
    root.mkdir()
    # small chunks so there are several levels to compare
    convert(tessera_bin, tmp_path / "alpha.tif", root / "img04.ome.zarr", "--ngff", "0.4", "--chunks", "64")
    convert(tessera_bin, tmp_path / "alpha.tif", root / "img05.ome.zarr", "--ngff", "0.5", "--chunks", "64", "--shards", "128")
    out = tmp_path / "napari"
    out.mkdir()
    with GatewayServer(tessera_bin, "--root", f"d={root}") as gw:
        urls = {name: f"{gw.url}/d/{name}.ome.zarr" for name in ["img04", "img05"]}
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "NAPARI_CONFIG": str(out / "napari-settings.yaml"),
               "XDG_RUNTIME_DIR": str(out), "HOME": str(out)}
        proc = subprocess.Popen([xvfb, "-a", "-s", "-screen 0 1280x1024x24", python, str(Path(__file__).parent / "napari_check.py"),
                                 str(out), *[f"{k}={v}" for k, v in urls.items()]],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                env=env, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            output = "(timed out)"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log = gw.access_log()
    result_path = out / "result.json"
    assert result_path.is_file(), f"napari wrote no result (exit {proc.returncode}):\n{output[-4000:]}"
    result = json.loads(result_path.read_text())
    print(f"\nnapari: {json.dumps(result)}")
    assert not [e for e in log if e.get("status", 0) >= 500], "5xx from the gateway"

    from PIL import Image

    for name in ["img04", "img05"]:
        entry = result["images"][name]
        assert "error" not in entry, f"{name}: {entry.get('error')}\n{output[-3000:]}"
        last, count = stored_last_level(root / f"{name}.ome.zarr")
        assert entry["multiscale"] and entry["levels"] == count, (name, entry, count)
        assert count > 1, f"{name}: expected a pyramid"
        level0 = np.load(out / f"{name}-level0.npy")
        assert level0.dtype == source.dtype and np.array_equal(level0, source), f"{name}: level 0 differs from the source"
        assert np.array_equal(np.load(out / f"{name}-last.npy"), last), f"{name}: last level differs from Tessera's"
        assert "not supported" in entry["builtin"], f"{name}: builtin reader: {entry['builtin']}"
        # the whole-window screenshot shows the image where napari's camera puts it
        shot = np.load(out / f"{name}-window.npy")[..., :3].astype(float)
        Image.fromarray(shot.astype(np.uint8)).save(out / f"{name}-window.png")
        top, bottom, left, right = entry["box"]
        assert 0 <= top < bottom <= shot.shape[0] and 0 <= left < right <= shot.shape[1], (entry["box"], shot.shape)
        assert bottom - top > 200, f"{name}: image drawn too small: {entry['box']}"
        t, b, l, r = int(np.ceil(top)) + 2, int(bottom) - 2, int(np.ceil(left)) + 2, int(right) - 2
        gray = shot[t:b, l:r].mean(axis=2)
        assert gray.std() > 30, f"{name}: the image area is nearly uniform (std {gray.std():.1f}) in {out / (name + '-window.png')}"
        ys = ((np.arange(t, b) + 0.5 - top) * source.shape[0] / (bottom - top)).astype(int).clip(0, source.shape[0] - 1)
        xs = ((np.arange(l, r) + 0.5 - left) * source.shape[1] / (right - left)).astype(int).clip(0, source.shape[1] - 1)
        low, high = entry["contrast_limits"]
        expected = np.clip((source.astype(float) - low) / (high - low), 0, 1) * 255
        corr = np.corrcoef(gray.ravel(), expected[np.ix_(ys, xs)].ravel())[0, 1]
        corr_t = np.corrcoef(gray.ravel(), expected.T[np.ix_(ys, xs)].ravel())[0, 1]
        err = np.abs(gray - expected[np.ix_(ys, xs)])
        print(f"{name}: correlation {corr:.3f} (transposed {corr_t:.3f}), mean grey error {err.mean():.1f}, "
              f"opened in {entry['open_seconds']} s")
        assert corr > 0.95 and corr_t < 0.9, f"{name}: screenshot does not match the source ({corr:.3f}, {corr_t:.3f})"
        assert err.mean() < 10, f"{name}: grey levels off by {err.mean():.1f} on average"
