#!/usr/bin/env bash
# GPU check, one command from the repo root on a CUDA machine (about 5 minutes on an H100-class GPU):
#
#   bash bench/gpu_check.sh                      # all parts; summary in bench/out/gpu_check.json
#   bash bench/gpu_check.sh --parts plain fsdp --seconds 30
#   bash bench/gpu_check.sh --cpu-smoke          # no GPU: checks the script itself in seconds
#
# Finds a Python whose torch sees the GPU ($PYTHON if set, else .venv, else python3; `make install`
# when there is no .venv yet), prints nvidia-smi, then runs bench/gpu_train_check.py with the
# arguments given (see its --help): the CUDA-marked tests, GPT-2 124M training plain and under FSDP2,
# and the attention benchmark. The log goes to bench/out/gpu_check.log too. Exit code: 0 when every
# part passed or was skipped, 1 when one failed, 2 for bad arguments or no usable Python.
set -euo pipefail
cd "$(dirname "$0")/.."

sees_cuda() { "$1" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }
has_torch() { "$1" -c 'import torch' 2>/dev/null; }

smoke=0
for arg in "$@"; do [[ $arg == --cpu-smoke ]] && smoke=1; done
usable() { if ((smoke)); then has_torch "$1"; else sees_cuda "$1"; fi; }

py=""
if [[ -n ${PYTHON:-} ]]; then
    py=$PYTHON
else
    for candidate in .venv/bin/python python3; do
        if command -v "$candidate" >/dev/null && usable "$candidate"; then py=$candidate; break; fi
    done
    if [[ -z $py && ! -x .venv/bin/python ]]; then
        echo "no .venv and no Python with a CUDA build of torch: make install (pip install torch==2.13.0 pulls the CUDA build)"
        make install
    fi
    # A .venv whose torch sees no GPU still runs, to say so (gpu_train_check.py exits 2 with the reason).
    [[ -z $py && -x .venv/bin/python ]] && py=.venv/bin/python
fi
if [[ -z $py ]] || ! has_torch "$py"; then
    echo "gpu_check: no Python with torch found (tried \$PYTHON, .venv/bin/python, python3)" >&2
    exit 2
fi
if ((!smoke)) && ! sees_cuda "$py"; then
    echo "gpu_check: $py has torch $("$py" -c 'import torch; print(torch.__version__)') but it sees no GPU" \
         "(a CPU build? then: $py -m pip install --force-reinstall torch==2.13.0)" >&2
fi

mkdir -p bench/out
{
    echo "python: $py ($("$py" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__)'))"
    if command -v nvidia-smi >/dev/null; then nvidia-smi; else echo "nvidia-smi: not found"; fi
    PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 "$py" bench/gpu_train_check.py "$@"
} 2>&1 | tee bench/out/gpu_check.log
