#!/usr/bin/env bash
# Scenario 4: will BERT-Large pre-training fit? On a 12 GB, a 16 GB and a 32 GB GPU and on a TPU
# v3-8 board: the largest micro-batch that fits (max_micro_batch), and what accumulation,
# recomputation, mixed precision and optimizer sharding change in memory and time.
# BERT's own recipe: batch 256 sequences of 512 tokens (Devlin et al. 2019).
set -euo pipefail
cd "$(dirname "$0")"
estimate() { python -m estimator "$@"; }

estimate bert-large --hw titan-x-12g.yaml --precision fp32 --global-batch 256
estimate bert-large --hw v100x1 --precision fp32 --global-batch 256
estimate bert-large --hw v100-32gx1 --precision fp32 --global-batch 256
estimate bert-large --hw tpu-v3-8 --precision bf16 --global-batch 256

# One lever at a time on the 16 GB V100 (memory per device and step time in the output):
estimate bert-large --hw v100x1 --precision fp32 --global-batch 256 --micro-batch 1    # accumulation
estimate bert-large --hw v100x1 --precision fp32 --global-batch 256 --recompute full   # recomputation
estimate bert-large --hw v100x1 --precision fp16 --global-batch 256                     # mixed precision
estimate bert-large --hw v100x8 --precision fp16 --global-batch 256 --zero 1            # sharding (8 GPUs)
# All of it as a table of factors (1M steps at batch 256 = 256M sequences).
estimate levers bert-large --hw v100x8 --samples 256e6 --nodes 4
# The two-phase recipe on one A100 node, phase 2 with a length-binned loader (mean 288 tokens).
estimate bert-large-two-phase.yaml --hw a100-80gx8 --samples 256e6
