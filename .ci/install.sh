#!/usr/bin/env bash
# Installs what bamboost needs on Debian/Ubuntu: OpenMPI, parallel HDF5, libclang, a Rust
# toolchain if there is none, and mdBook. Idempotent. Source it so its exports stay:
#   source .ci/install.sh
export DEBIAN_FRONTEND=noninteractive
_sudo=""
[[ $(id -u) -eq 0 ]] || _sudo="sudo"
_pkgs=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools libclang-dev pkg-config libsqlite3-dev curl ca-certificates build-essential python3 python3-pip python3-venv)
_missing=()
for _p in "${_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q 'install ok installed' || _missing+=("$_p")
done
if ((${#_missing[@]})); then
  echo "[install] apt: ${_missing[*]}"
  $_sudo apt-get update -q && $_sudo apt-get install -y -q "${_missing[@]}" \
    || { echo "[install] apt-get failed" >&2; return 1 2>/dev/null || exit 1; }
fi
if ! command -v cargo >/dev/null; then
  [[ -x "$HOME/.cargo/bin/cargo" ]] || curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v mdbook >/dev/null && [[ ! -x "$HOME/.cargo/bin/mdbook" ]]; then
  echo "[install] mdbook (about 2 minutes)"
  cargo install --locked mdbook --version 0.5.4 --no-default-features --features search
fi
export PATH="$HOME/.cargo/bin:$PATH"
# The attribute interoperability tests read and write files with h5py.
if ! python3 -c "import h5py, numpy" 2>/dev/null; then
  echo "[install] pip: h5py numpy"
  # A Debian system Python is "externally managed" (PEP 668) and needs the explicit override.
  python3 -m pip install --quiet h5py numpy 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages h5py numpy \
    || { echo "[install] pip install h5py numpy failed" >&2; return 1 2>/dev/null || exit 1; }
fi
# The Python-interoperability tests run Python bamboost 0.14.0 from a virtual environment.
_pyenv="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/pyenv"
# meshio is the independent XDMF reader the XDMF tests check our files with.
if ! "$_pyenv/bin/python" -I -c "import bamboost.core, meshio" 2>/dev/null; then
  echo "[install] venv: bamboost==0.14.0 meshio==5.3.5 in $_pyenv"
  python3 -m venv "$_pyenv" && "$_pyenv/bin/pip" install --quiet bamboost==0.14.0 meshio==5.3.5 \
    || { echo "[install] pip install bamboost==0.14.0 meshio==5.3.5 failed" >&2; return 1 2>/dev/null || exit 1; }
fi
export BAMBOOST_PYTHON="$_pyenv/bin/python"
# Open MPI refuses to start as root without these two.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Link the parallel HDF5 build for every feature set (see ARCHITECTURE.md).
export HDF5_DIR=/usr/lib/x86_64-linux-gnu/hdf5/openmpi
unset _sudo _pkgs _missing _p _pyenv
