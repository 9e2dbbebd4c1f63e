"""What the browse tests share: the images they serve and the gateway that serves them
with the browse page, the self-hosted neuroglancer client and Swagger UI.

Images (converted by `tessera convert` from TIFFs written here), under root `d`:
- `alpha.ome.zarr`: uint16 512x512, NGFF 0.5 sharded (the one opened in neuroglancer);
- `beta.ome.zarr`: uint8 256x256, NGFF 0.4;
- `gamma.ome.zarr`: 3-channel uint8 (RGB source), NGFF 0.5;
- an image whose file name (and so its multiscales name) carries an HTML/script injection.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from neuroglancer_view import neuroglancer_client

# No '/' (a file name cannot hold one): an unclosed <script> and an event handler will do.
EVIL = 'x"><script>alert(1)<img src=x onerror=alert(2)>'
SIZE = 512


def alpha_image() -> np.ndarray:
    """uint16, asymmetric (a transposed display would not match): a diagonal gradient, a
    bright square top-left, a bright disc top-right, a dark bar bottom-right."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    img = (x * 60 + y * 40).astype(np.uint16)
    img[64:192, 64:192] = 60000
    img[(x - 380) ** 2 + (y - 140) ** 2 < 60 ** 2] = 50000
    img[320:448, 256:480] = 1000
    return img


def beta_image() -> np.ndarray:
    y, x = np.mgrid[0:256, 0:256]
    img = ((x + 2 * y) % 256).astype(np.uint8)
    img[20:60, 150:230] = 255
    return img


def gamma_image() -> np.ndarray:
    y, x = np.mgrid[0:200, 0:300]
    return np.stack([(x % 256), (y % 256), ((x + y) % 256)], axis=-1).astype(np.uint8)


def convert(tessera_bin: Path, src: Path, out: Path, *flags: str) -> None:
    proc = subprocess.run([str(tessera_bin), "convert", str(src), str(out), *flags],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"convert {src.name} failed: {proc.stderr}"


def make_data(tessera_bin: Path, base: Path) -> Path:
    """The served root with the four images; returns its folder."""
    import tifffile

    src = base / "src"
    src.mkdir(parents=True)
    root = base / "root"
    root.mkdir()
    tifffile.imwrite(src / "alpha.tif", alpha_image(), photometric="minisblack")
    convert(tessera_bin, src / "alpha.tif", root / "alpha.ome.zarr", "--ngff", "0.5", "--chunks", "64", "--shards", "256")
    tifffile.imwrite(src / "beta.tif", beta_image(), photometric="minisblack")
    convert(tessera_bin, src / "beta.tif", root / "beta.ome.zarr", "--ngff", "0.4")
    tifffile.imwrite(src / "gamma.tif", gamma_image(), photometric="rgb")
    convert(tessera_bin, src / "gamma.tif", root / "gamma.ome.zarr", "--ngff", "0.5")
    tifffile.imwrite(src / (EVIL + ".tif"), beta_image(), photometric="minisblack")
    convert(tessera_bin, src / (EVIL + ".tif"), root / (EVIL + ".ome.zarr"), "--ngff", "0.4")
    return root


def swagger_assets() -> Path:
    try:
        import swagger_ui
    except ImportError as exc:
        pytest.fail(f"{exc}: install the PyPI `swagger-ui-py` package into the venv "
                    "(scripts/python-requirements.txt)", pytrace=False)
    static = Path(swagger_ui.__file__).parent / "static"
    if not (static / "swagger-ui-bundle.js").is_file():
        pytest.fail(f"swagger-ui-py has no swagger-ui-bundle.js in {static}", pytrace=False)
    return static


def openapi_spec() -> Path:
    return Path(__file__).resolve().parents[3] / "Specs" / "openapi.yaml"


def site_flags() -> list[str]:
    return ["--browse", "--viewer-assets", str(neuroglancer_client()), "--docs-assets", str(swagger_assets()),
            "--openapi", str(openapi_spec())]


def neuroglancer_state(href: str) -> dict:
    """The JSON state in a `/viewer/v/tessera/#!…` link."""
    from urllib.parse import unquote

    assert "#!" in href, href
    return json.loads(unquote(href.split("#!", 1)[1]))
