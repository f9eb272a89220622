#!/usr/bin/env bash
# The index benchmark: Rust bamboost against Python bamboost 0.14, side by side in one run.
#
#   bash scripts/bench_index.sh
#
# Sets up what it needs (`.ci/install.sh`: packages, HDF5_DIR, and Python bamboost 0.14.0 in
# target/pyenv), builds the `bamboost` binary and the benchmark in release mode, and runs
# bamboost/benches/index.rs, which writes a collection of simulations into a temporary
# directory, measures the Rust index, runs scripts/bench_index_python.py for the Python index,
# and times both `bamboost list <UID>` programs. It prints a table of medians (Markdown) on
# stdout and its progress on stderr.
#
# Settings (environment, all optional; see the header of bamboost/benches/index.rs):
#   BENCH_SIMS=10000          simulations in the collection
#   BENCH_REPEAT=5            repetitions of cold and warm syncs and of Python's queries
#   BENCH_PY_COLD_REPEAT=3    repetitions of Python's cold sync (about a minute each at 10 000)
#   BENCH_QUERY_REPEAT=20     repetitions of each Rust query
#   BENCH_CLI_REPEAT=10       runs of each `bamboost list <UID>`
#   BENCH_DIR=<dir>           keep the data there (and reuse the collection on the next run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

# Idempotent; creates target/pyenv with bamboost==0.14.0 when missing, exports HDF5_DIR.
source .ci/install.sh

python="$root/target/pyenv/bin/python"
"$python" -I -c "import bamboost, sys; assert bamboost.__version__ == '0.14.0', bamboost.__version__" \
  || { echo "bench_index: $python has no bamboost 0.14.0" >&2; exit 1; }

# Both binaries: `bamboost` hands `list --sync` to `bamboost-hdf5`.
cargo build --release -q -p bamboost --bins
cargo bench -q -p bamboost --bench index --no-run

export BENCH_PYTHON="$python"
export BENCH_PY_SCRIPT="$root/scripts/bench_index_python.py"
# The venv's entry script, run by the venv's interpreter (its #! line may name another one).
export BENCH_PY_BAMBOOST="$root/target/pyenv/bin/bamboost"
export BENCH_BAMBOOST_BIN="$root/target/release/bamboost"

echo "[bench_index] $(nproc) cores; $(rustc --version); $("$python" --version)" >&2
cargo bench -q -p bamboost --bench index
