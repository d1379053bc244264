#!/usr/bin/env bash
# The GPU checks of a session that is lent a CUDA machine, as one prepared script (at most 10 minutes: the step limits sum to 590 s).
# Run from the repository root with a CUDA build of torch on the path; writes logs and JSON lines under $OUT
# (default ./gpu_out). Each step has its own time limit, so one hang cannot eat the rest; the most important first:
#   1. the unit tests that need a GPU (tests/test_loop.py);
#   2. a short `paper` pretraining (the paper's model, window, batch and schedule shape; 3,000 steps), interrupted
#      after about 60 s and resumed, through the CLI the book's chapters share (`python -m ftmech.train`);
#   3. the GPU throughput targets of the README's Benchmarks section: benchmarks/ensemble.py (16 members, eager;
#      one model compiled) and benchmarks/train_step.py (paper size, eager and compiled).
set -u
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
PY=${PY:-python3}
step() { local limit=$1 name=$2; shift 2; echo "== $name (limit ${limit}s): $*"; local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1; local rc=$?
  echo "   rc=$rc in $((SECONDS - t0)) s; last line: $(tr '\r' '\n' < "$OUT/$name.log" | grep -v '^$' | tail -n 1)"; }

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
$PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))" | tee -a "$OUT/gpu.txt"

step 100 pytest_loop $PY -m pytest -q -x -p no:cacheprovider tests/test_loop.py -k "cuda or compile"
PT=(-m ftmech.train pretrain --profile paper --store /tmp/gpu_store --prior low --steps 3000 --eval-every 500
    --ckpt-every 500 --eval-size 1000)  # with the progress bar: its it/s is the measured speed
step 60 pretrain_interrupted $PY "${PT[@]}"
step 130 pretrain_resumed $PY "${PT[@]}"
tar czf "$OUT/pretrain_store.tgz" --exclude='*.safetensors' -C /tmp gpu_store 2>/dev/null
step 110 ensemble16 $PY benchmarks/ensemble.py --profile paper --members 16 --steps 40 --device cuda --workers 8
step 120 single_compiled $PY benchmarks/ensemble.py --profile paper --single-only --steps 100 --device cuda \
     --workers 4 --compile
step 70 train_step $PY benchmarks/train_step.py --sizes paper --device cuda --steps 30 --warmup 5
echo "== done"
