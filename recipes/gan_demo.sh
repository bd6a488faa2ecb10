#!/usr/bin/env bash
# The GAN path as a user runs it: Neural Enhance's second seed command (perceptual conv5_2,
# smoothness, adversarial, the start-epoch schedule), fine-tuning a copy of the shipped default
# x2 model on the corpus photos and paintings, then a before/after crop sheet of the bench.
#
#   bash recipes/gan_demo.sh [epochs] [epoch-size]      (defaults 12 and 40: about 10 CPU minutes)
#
# Needs the corpus (python -m recipes.build_corpus data/corpus) and the train extra.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EPOCHS="${1:-12}"
EPOCH_SIZE="${2:-40}"
RUN="$ROOT/runs/gan"
mkdir -p "$RUN/data"
ln -sf "$ROOT"/data/corpus/photo_*.png "$ROOT"/data/corpus/art_*.png "$RUN/data/"
# fine-tuning starts from a model of the same name in the current folder
[ -f "$RUN/ne2x-photo-gan.safetensors" ] || cp "$ROOT/src/enhance/models/weights/default-x2.safetensors" "$RUN/ne2x-photo-gan.safetensors"
cd "$RUN"
enhance --train "data/*.png" --model gan --scales=2 --epochs="$EPOCHS" --epoch-size="$EPOCH_SIZE" --batch-size=8 \
  --perceptual-layer=conv5_2 --smoothness-weight=2e4 --adversary-weight=1e3 --generator-start=5 \
  --discriminator-start=0 --adversarial-start=5 --discriminator-size=64 \
  --generator-blocks=6 --generator-filters=48
cd "$ROOT"
python -m benchmarks sheet --scale 2 --models bicubic,default,gan --model-dir "$RUN" --out crops/gan_x2.png
