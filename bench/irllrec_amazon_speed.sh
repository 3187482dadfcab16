#!/usr/bin/env bash
# Cost of the text enhancers on LightGCN, amazon (real interactions), with REF-sized text tables of
# synthetic values: profile 1536 wide (RLMRec's ada-002), intent 3072 wide (text-embedding-3-large).
# One line per configuration: median seconds per training epoch over EPOCHS epochs (30 steps of 4096)
# and peak RSS. The rows add one term at a time, so consecutive differences are the per-term cost
# (including the tower rows that term needs):
#   lightgcn            LightGCN alone (keep_rate 1.0, as lightgcn_int)
#   + kd                RLMRec-Con alone (the rlmrec_con preset)
#   + pair              irllrec-ref without translation and ITM (kd + pairwise alignment)
#   + tran              irllrec-ref without ITM (adds the all-nodes translation, towers on all V)
#   + itm = irllrec-ref the full REF preset (adds the EMA teacher forward and the distillation)
# and, with text.reduce_dim (PCA of each table at load; its one-off cost is the "setup" column):
#   con-r256 / ref-r256 RLMRec-Con / irllrec-ref on the top-256 principal components of each table
#   ref-r64             irllrec-ref on the top-64
# and the other baselines (their presets, on LightGCN with keep_rate 1.0 like every row):
#   gen                 RLMRec-Gen (mask 0.15 of all nodes, reconstruction over the masked seeds)
#   kar                 KAR, concat fusion (64-wide layer 0, 8 experts over the 1536-wide profiles)
#   alpharec            AlphaRec (layer 0 from the 1536-wide item profiles, softmax loss, batch 1024)
#   alpharec-r256       the same on the top-256 principal components
# Usage: bench/irllrec_amazon_speed.sh [EPOCHS] [ROW...]
#   rows: lightgcn con pair tran ref con-r256 ref-r256 ref-r64 gen kar alpharec alpharec-r256 (default: the first five)
# (nothing else should run on the machine)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-3}"
shift || true
rows=("$@")
[ ${#rows[@]} -eq 0 ] && rows=(lightgcn con pair tran ref)
repo="$(pwd)"
tables="$repo/runs/bench/amazon-tables"
if [ ! -f "$tables/intent_item.npy" ]; then
  ./build/bin/recgrid synth --out "$tables" --users 11000 --items 9332 --profile-dim 1536 --intent-dim 3072 \
    --interactions-per-user 3 > /dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
experiment() {  # NAME PRESET
  cat > "$work/$1.yaml" <<YAML
extends: {dataset: $repo/configs/datasets/amazon.yaml, model: $repo/configs/models/lightgcn.yaml$( [ -n "$2" ] && echo ", enhancers: $repo/configs/enhancers/$2.yaml")}
dataset:
  text: {profile_user: $tables/profile_user.npy, profile_item: $tables/profile_item.npy,
         intent_user: $tables/intent_user.npy, intent_item: $tables/intent_item.npy}
model: {keep_rate: 1.0}
train: {epochs: $epochs, test_step: 100000}
YAML
}
row() {  # LABEL NAME PRESET [--set ...]
  local label="$1" name="$2" preset="$3"
  shift 3
  [[ " ${rows[*]} " == *" $name "* ]] || return 0
  experiment "$name" "$preset"
  ./build/bin/recgrid run "$work/$name.yaml" --no-progress --out "$work/run-$name" "$@" > /dev/null 2> "$work/$name.err" ||
    { cat "$work/$name.err"; exit 1; }
  printf "%-22s %8.2f s/epoch  %7.0f MiB peak  %6.1f s setup\n" "$label" \
    "$(jq -r .median_epoch_train_s "$work/run-$name/results.json")" "$(jq -r .peak_rss_mib "$work/run-$name/results.json")" \
    "$(jq -r .setup_time_s "$work/run-$name/results.json")"
}
row "lightgcn" lightgcn ""
row "+ kd (rlmrec_con)" con rlmrec_con --set model.keep_rate=1.0
row "+ pair" pair irllrec-ref --set enhancer.irllrec.translation_weight=0 --set enhancer.irllrec.itm_weight=0
row "+ tran" tran irllrec-ref --set enhancer.irllrec.itm_weight=0
row "+ itm (irllrec-ref)" ref irllrec-ref
row "rlmrec_con, reduce 256" con-r256 rlmrec_con --set model.keep_rate=1.0 --set text.reduce_dim=256
row "irllrec-ref, reduce 256" ref-r256 irllrec-ref --set text.reduce_dim=256
row "irllrec-ref, reduce 64" ref-r64 irllrec-ref --set text.reduce_dim=64
row "rlmrec_gen" gen rlmrec_gen
row "kar (concat)" kar kar
row "alpharec" alpharec alpharec
row "alpharec, reduce 256" alpharec-r256 alpharec --set text.reduce_dim=256
