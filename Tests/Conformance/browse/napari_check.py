"""Run by test_napari.py with the napari venv's Python under Xvfb (not imported by pytest).

argv: OUT_DIR then NAME=URL pairs. For each image: open the gateway URL with
`plugin="napari-ome-zarr"`, save level 0 and the last level as .npy, show it alone, take
a whole-window screenshot, and record where the image's pixels lie in that screenshot
(from napari's camera) and the layer's contrast limits. Also records what napari's
builtin reader does with the same URL. Writes OUT_DIR/result.json; any failure is
recorded there rather than raised, so the test can name it.
"""

import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np


def main() -> None:
    out = Path(sys.argv[1])
    pairs = [a.split("=", 1) for a in sys.argv[2:]]
    result = {"images": {}}
    import napari
    from qtpy.QtCore import QPoint

    app = napari.qt.get_qapp()
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1100, 900)
    try:
        for name, url in pairs:
            entry = result["images"][name] = {}
            t0 = time.time()
            try:
                layers = viewer.open(url, plugin="napari-ome-zarr")
                layer = layers[0]
                entry["multiscale"] = bool(layer.multiscale)
                levels = list(layer.data) if layer.multiscale else [layer.data]
                entry["levels"] = len(levels)
                np.save(out / f"{name}-level0.npy", np.asarray(levels[0]))
                np.save(out / f"{name}-last.npy", np.asarray(levels[-1]))
                entry["open_seconds"] = round(time.time() - t0, 2)
                for other in list(viewer.layers):
                    other.visible = other is layer
                viewer.reset_view()
                for _ in range(40):
                    app.processEvents()
                    time.sleep(0.05)
                shot = viewer.screenshot(canvas_only=False, flash=False)
                np.save(out / f"{name}-window.npy", shot)
                # where the image's pixel area lies in the window screenshot
                canvas = viewer.window._qt_viewer.canvas.native
                origin = canvas.mapTo(viewer.window._qt_window, QPoint(0, 0))
                height, width = np.asarray(levels[0]).shape[-2:]
                corners = [layer.data_to_world((-0.5, -0.5)), layer.data_to_world((height - 0.5, width - 0.5))]
                center = np.asarray(viewer.camera.center)[-2:]
                zoom = viewer.camera.zoom
                size = np.array([canvas.height(), canvas.width()])
                screen = [(np.asarray(c)[-2:] - center) * zoom + size / 2 for c in corners]
                scale = shot.shape[0] / viewer.window._qt_window.height()
                entry["box"] = [float((origin.y() + screen[0][0]) * scale), float((origin.y() + screen[1][0]) * scale),
                                float((origin.x() + screen[0][1]) * scale), float((origin.x() + screen[1][1]) * scale)]
                entry["contrast_limits"] = [float(v) for v in layer.contrast_limits]
                entry["colormap"] = layer.colormap.name
            except Exception as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
            try:
                viewer.open(url)
                entry["builtin"] = "opened"
            except Exception as exc:
                entry["builtin"] = f"{type(exc).__name__}: {exc}"
            viewer.layers.clear()
    finally:
        viewer.close()
        (out / "result.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
