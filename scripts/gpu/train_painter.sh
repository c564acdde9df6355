#!/bin/bash
# On a lent GPU (after scripts/gpu/pack.sh here): render a 96k-caption shape world, train the
# wide UNet (64,128,192) from scratch for what TOTAL seconds allow, tune the shipped decoder to
# it, and leave both exports as tar parts in $OUT (at most 16 MiB a file comes back):
#   unet.tar.part-*   exports/unet (the new UNet, the old decoder) and unet_loss.log
#   final.tar.part-*  exports/final (the new UNet and its tuned decoder), decoder_loss.log
# SMOKE=1: the same path in a minute. LOCAL=1 DEV=cpu PY=.venv/bin/python: try it here first.
# INIT=1: continue the shipped UNet (`--init-from chatimg/builtin/painter`, fresh warm-up, LR) on the
# GPU data set instead of starting a new one; DRESERVE: seconds kept for the decoder and exports.
set -euo pipefail
T0=$(date +%s)
SMOKE=${SMOKE:-0}; DEV=${DEV:-cuda}; TOTAL=${TOTAL:-540}; INIT=${INIT:-0}; DRESERVE=${DRESERVE:-200}
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
PY=${PY:-python3}
export PYTHONUNBUFFERED=1 PYTHONHASHSEED=0 TOKENIZERS_PARALLELISM=false TQDM_MININTERVAL=30
if [ -z "${LOCAL:-}" ]; then
  mkdir -p /tmp/site
  for w in .gpu/wheels/*; do $PY -m zipfile -e "$w" /tmp/site; done
  export PYTHONPATH=/tmp/site:$PWD/.gpu/site:$PWD
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
else
  export PYTHONPATH=$PWD/.gpu/site:$PWD
fi
$PY scripts/gpu/unpack_minilm.py
$PY -c "import torch, diffusers, transformers; print('torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"
# the adopted (shipped) decoder counts as tuned DECODER_STEPS already: tune it DSTEPS more
ADOPTED=$($PY -c "from chatimg.training.painter import DECODER_STEPS; print(DECODER_STEPS)")
if [ "$SMOKE" = 1 ]; then CAP=300; DSTEPS=4; BATCH=8; DBATCH=4; else CAP=${CAPTIONS:-96000}; DSTEPS=${DSTEPS:-1200}; BATCH=${BATCH:-256}; DBATCH=64; fi
if [ "$INIT" = 1 ]; then ADOPT=--init-from; LR=${LR:-5e-4}; UNET_NEW=(); else ADOPT=--init-vae-from; LR=${LR:-1e-3}; UNET_NEW=(--channels 64,128,192 --full-res-attention); fi
R=/tmp/gpu-run; rm -rf $R
$PY -m chatimg.training.painter data --run $R --captions $CAP --renders 2 --workers 16 --device cpu \
  $ADOPT chatimg/builtin/painter
$PY - $R <<'PYEOF'
import json, sys
from transformers import AutoTokenizer
run = sys.argv[1]
tokenizer = AutoTokenizer.from_pretrained("/tmp/minilm")
kept = set(map(int, open("/tmp/minilm/kept_ids.txt").read().split()))
captions = json.load(open(f"{run}/data/captions.json"))["captions"]
used = {i for c in captions for i in tokenizer(c)["input_ids"]}
assert used <= kept, f"tokens outside the packed MiniLM: {sorted(used - kept)[:10]}"
print(f"{len(captions)} captions, {len(used)} distinct tokens, all packed")
PYEOF
NOW=$(date +%s); UB=$(( TOTAL - (NOW - T0) - DRESERVE )); [ "$SMOKE" = 1 ] && UB=25
echo "data ready after $((NOW - T0)) s; UNet budget $UB s"
$PY -m chatimg.training.painter all --run $R --device $DEV --captions $CAP --renders 2 \
  "${UNET_NEW[@]}" --batch $BATCH --lr $LR --unet-steps 200000 \
  --time-budget $UB --decay-share ${DECAY:-0.3} --checkpoint-every 2500 --export-every 0 --decoder-steps 0 \
  --out $R/exports/unet
tar -C $R -cf - exports/unet unet_loss.log | split -b 15M - "$OUT/unet.tar.part-"
echo "unet exported after $(( $(date +%s) - T0 )) s"
LEFT=$(( TOTAL - ($(date +%s) - T0) - 30 )); echo "decoder: $LEFT s at most"
timeout ${LEFT}s $PY -m chatimg.training.painter decoder --run $R --device $DEV --vae-batch $DBATCH --decoder-edge-weight 4 \
  --decoder-painter $R/exports/unet --decoder-painted-steps 3 --decoder-steps $(( ADOPTED + DSTEPS )) || echo "decoder stopped early (its last save every 200 steps is kept)"
$PY -m chatimg.training.painter export --run $R --out $R/exports/final
tar -C $R -cf - exports/final decoder_loss.log vae | split -b 15M - "$OUT/final.tar.part-"
echo "all done after $(( $(date +%s) - T0 )) s"; ls -la "$OUT"
