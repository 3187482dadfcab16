#!/usr/bin/env bash
# Mutation check of the formulas behind the report's statistics and the evaluation's metrics (issue 28):
# each mutant below breaks one formula in one place (a wrong degree of freedom, a dropped factor, an
# off-by-one, the other convention). The script applies it, rebuilds the test binary, runs the tests of
# metrics, groups and the report, and expects at least one to fail. A mutant that survives is a formula
# no test checks. Every source file is restored afterwards, also when the script is interrupted.
#
# Usage: bash scripts/mutate-formulas.sh [BUILD_DIR] [ID_PATTERN]
#   BUILD_DIR   its own build folder (default: build-mutate, configured on first use: a cold build, ~10 min).
#               Never the build other work runs from: while a mutant is applied, the host library there
#               computes wrong metrics for every run started from it. `build` is refused.
#   ID_PATTERN  run only the mutants whose id matches this extended regex (default: all)
# Refuses to start when a file it mutates has uncommitted changes (a restore must give them back
# exactly); each original is kept beside it as FILE.mutate-orig while its mutant is applied, so even
# after a SIGKILL `mv FILE.mutate-orig FILE` restores it.
# Not listed: equivalent mutants, which no test can kill because behaviour does not change (e.g. the head
# share's `>= target` as `> target`: target carries a 1e-12 relative margin, so an integer count never
# equals it).
# Output: one line per mutant (killed by which tests, or SURVIVED); exit 1 when any survives.
# About 30-60 s a mutant on 2 cores (one source recompiled, the test binary relinked).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-mutate}
only=${2:-.}
[ "$(realpath -m "$build")" != "$(realpath -m build)" ] || { echo "mutate-formulas: not in build/ (see the usage)" >&2; exit 2; }
tests='Report*:Groups*:BeyondAccuracy*:FinalEvaluation*:MetricConventions*:Metrics*:TopK*:Evaluator*'

# id | file | exact text (must occur once) | replacement
mutants=$(cat <<'EOF'
t-sample-std-n|core/src/report/stats.cpp|ss / static_cast<double>(x.size() - 1)|ss / static_cast<double>(x.size())
t-df-n|core/src/report/stats.cpp|student_t_p_two_sided(r.t, r.n - 1)|student_t_p_two_sided(r.t, r.n)
t-one-sided|core/src/report/stats.cpp|return incomplete_beta(df / (df + t * t), df / 2, 0.5);|return incomplete_beta(df / (df + t * t), df / 2, 0.5) / 2;
t-no-sqrt-n|core/src/report/stats.cpp|r.t = m / (s / std::sqrt(static_cast<double>(r.n)));|r.t = m / s;
t-float-zero-variance|core/src/report/stats.cpp|if (s == 0 \|\| s <= 1e-12 * std::fabs(m)) {|if (s == 0) {
normal-tail|core/src/report/stats.cpp|std::erfc(std::fabs(z) / std::sqrt(2.0))|std::erfc(std::fabs(z) / 2.0)
beta-symmetry|core/src/report/stats.cpp|return 1 - front * beta_fraction(1 - x, b, a) / b;|return 1 - front * beta_fraction(1 - x, b, a) / a;
w-tie-variance|core/src/report/signed_rank.cpp|- k.tie_term / 2) / 24|- k.tie_term) / 24
w-exact-one-sided|core/src/report/signed_rank.cpp|std::min(1.0, 2 * signed_rank_cdf(r.n, r.t))|std::min(1.0, signed_rank_cdf(r.n, r.t))
w-average-rank|core/src/report/signed_rank.cpp|(static_cast<double>(i + 1) + static_cast<double>(j)) / 2|(static_cast<double>(i) + static_cast<double>(j)) / 2
w-continuity|core/src/report/signed_rank.cpp|total - r.w_plus) - centre) / std::sqrt(variance)|total - r.w_plus) - centre + 0.5) / std::sqrt(variance)
w-exact-with-zeros|core/src/report/signed_rank.cpp|r.exact = r.n <= 50 && r.zeros == 0 && !k.ties;|r.exact = r.n <= 50 && !k.ties;
w-zeros-kept|core/src/report/signed_rank.cpp|if (std::fabs(x) <= resolution && (resolution > 0 \|\| x == 0)) {|if (false) {
w-pmf|core/src/report/signed_rank.cpp|p[s] = 0.5 * (p[s] + (s >= r ? p[s - r] : 0.0));|p[s] = 0.5 * (p[s] + (s > r ? p[s - r] : 0.0));
holm-bonferroni|core/src/report/p_adjust.cpp|std::min(1.0, (m - static_cast<double>(i)) * p[order[i]])|std::min(1.0, m * p[order[i]])
holm-not-monotone|core/src/report/p_adjust.cpp|running = std::max(running, std::min(1.0, (m - static_cast<double>(i)) * p[order[i]]));|running = std::min(1.0, (m - static_cast<double>(i)) * p[order[i]]);
bh-rank|core/src/report/p_adjust.cpp|m * p[order[i]] / static_cast<double>(i + 1)|m * p[order[i]] / static_cast<double>(i + 2)
bh-not-monotone|core/src/report/p_adjust.cpp|running = std::min(running, std::min(1.0, m * p[order[i]] / static_cast<double>(i + 1)));|running = std::min(1.0, m * p[order[i]] / static_cast<double>(i + 1));
boot-level|core/src/report/bootstrap.cpp|quantile_sorted(means, (1 - level) / 2)|quantile_sorted(means, 1 - level)
boot-skips-last|core/src/report/bootstrap.cpp|s += d[index_below(state, d.size())];|s += d[index_below(state, d.size() - 1)];
boot-quantile-position|core/src/report/bootstrap.cpp|const double h = (static_cast<double>(sorted.size()) - 1) * q;|const double h = static_cast<double>(sorted.size()) * q;
gini-rank|core/src/eval/beyond_accuracy.cpp|(2.0 * static_cast<double>(j + 1) - n - 1.0)|(2.0 * static_cast<double>(j) - n - 1.0)
gini-normalisation|core/src/eval/beyond_accuracy.cpp|weighted / (n * total)|weighted / total
novelty-natural-log|core/src/eval/beyond_accuracy.cpp|return -std::log2(|return -std::log(
novelty-denominator|core/src/eval/beyond_accuracy.cpp|static_cast<double>(std::max<int64_t>(count, 1)) / static_cast<double>(users)|static_cast<double>(std::max<int64_t>(count, 1)) / static_cast<double>(users + 1)
arp-plus-one|core/src/eval/beyond_accuracy.cpp|: static_cast<double>(c);|: static_cast<double>(c + 1);
per-user-mean|core/src/eval/beyond_accuracy.cpp|  return sum / n;|  return sum / ks_.back();
coverage-twice|core/src/eval/beyond_accuracy.cpp|[](int64_t c) { return c > 0; }|[](int64_t c) { return c > 1; }
head-no-tolerance|core/src/eval/groups.cpp|static_cast<double>(g.total_interactions) * (1 - 1e-12)|static_cast<double>(g.total_interactions)
bucket-round-down|core/src/eval/groups.cpp|const bool use_end = !start_ok \|\| (end_ok && |const bool use_end = !start_ok \|\| (false && 
bucket-round-up|core/src/eval/groups.cpp|const bool use_end = !start_ok \|\| (end_ok && |const bool use_end = !start_ok \|\| (end_ok \|\| 
bucket-tie-earlier|core/src/eval/groups.cpp|static_cast<double>(end) - target <= target|static_cast<double>(end) - target < target
bucket-upper|core/src/eval/groups.cpp|lower[static_cast<size_t>(bucket) + 1] - 1|lower[static_cast<size_t>(bucket) + 1]
group-recall-all-truth|core/src/eval/group_metrics.cpp|static_cast<double>(hits[g]) / static_cast<double>(truth_in[g])|static_cast<double>(hits[g]) / static_cast<double>(truth_in[0] + truth_in[1])
group-slot-share|core/src/eval/group_metrics.cpp|static_cast<double>(slots_[gu][q]) / slots|static_cast<double>(slots_[gu][q]) / (slots + 1)
group-bucket-mean|core/src/eval/group_metrics.cpp|nlohmann::json(bucket_recall_[bu][q] / users)|nlohmann::json(bucket_recall_[bu][q] / (users + 1))
group-users-with-truth|core/src/eval/group_metrics.cpp|group_users_[static_cast<size_t>(g)] += truth_in[g] > 0;|group_users_[static_cast<size_t>(g)] += 1;
dcg-natural-log|core/src/eval/metrics.cpp| dcg += 1.0 / std::log2(j + 2.0);| dcg += 1.0 / std::log(j + 2.0);
idcg-all-truth|core/src/eval/metrics.cpp|std::min<int64_t>(ks[q], n_truth)|n_truth
recall-capped|core/src/eval/metrics.cpp|hits / static_cast<double>(n_truth)|hits / static_cast<double>(std::min<int64_t>(ks[q], n_truth))
sig-seed-mean|core/src/report/significance.cpp|for (double& v : sum) v /= static_cast<double>(tables.size());|for (double& v : sum) v /= 1;
sig-difference-sign|core/src/report/significance.cpp|d[k] = p.a[k] - p.b[k];|d[k] = p.b[k] - p.a[k];
sig-relative-base|core/src/report/significance.cpp|const double base = no_users.empty() ? mean_b : seed_mean_b;|const double base = no_users.empty() ? mean_a : seed_mean_a;
sig-users-union|core/src/report/significance.cpp|    users.swap(kept);|    (void)kept;
sig-seed-failed-counted|core/src/report/significance.cpp|is_result(record) && is_result(it->second)|is_result(record)
sig-star-threshold|core/src/report/significance.cpp|adjusted[k] < 0.05|adjusted[k] < 0.1
sig-uncorrected|core/src/report/significance.cpp|all[k].p_adjusted = adjusted[k];|all[k].p_adjusted = p[k];
sig-correction-fixed|core/src/report/significance.cpp|adjust(p, o.correction)|adjust(p, Correction::holm)
sig-test-fixed|core/src/report/significance.cpp|o.test == "wilcoxon" ? c.user_w : c.user_t|c.user_t
gain-over-a|core/src/report/group_section.cpp|100 * (sa[gk] - sb[gk]) / sb[gk]|100 * (sa[gk] - sb[gk]) / sa[gk]
group-table-first-seed|core/src/report/group_section.cpp|return v.empty() ? "–" : fixed(mean(v));|return v.empty() ? "–" : fixed(v.front());
EOF
)

# The files the table mutates, each once.
files=$(sed 's/\\|/\x1e/g' <<<"$mutants" | cut -d'|' -f2 | sort -u)
for f in $files; do
  [ -f "$f.mutate-orig" ] && { echo "mutate-formulas: $f.mutate-orig exists (an earlier run was killed): mv it back to $f first" >&2; exit 2; }
  git diff --quiet HEAD -- "$f" || { echo "mutate-formulas: $f has uncommitted changes: commit or stash them first" >&2; exit 2; }
done
if [ ! -f "$build/build.ninja" ]; then
  echo "mutate-formulas: configuring $build (a cold build of the tests follows)"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRECGRID_BUILD_TESTS=ON >/dev/null
fi

current=""
restore() {
  # touch: the original's old mtime would leave the mutant's object file looking up to date to ninja.
  if [ -n "$current" ] && [ -f "$current.mutate-orig" ]; then mv "$current.mutate-orig" "$current" && touch "$current"; fi
  current=""
}
trap 'restore; exit 130' INT
trap 'restore; exit 143' TERM
trap restore EXIT

# Replace the one occurrence of FROM by TO in FILE (perl: literal text, no pattern characters).
apply() {
  FROM="$2" TO="$3" perl -0pi -e '
    my $n = () = /\Q$ENV{FROM}\E/g;
    die "mutate-formulas: the text occurs $n times (expected once): $ENV{FROM}\n" if $n != 1;
    s/\Q$ENV{FROM}\E/$ENV{TO}/;' "$1"
}

survived=0 invalid=0 total=0
while IFS= read -r line; do
  [ -z "$line" ] && continue
  # Fields are separated by "|"; a literal "|" inside a field is written "\|".
  IFS=$'\x1f' read -r id file from to <<<"$(sed 's/\\|/\x1e/g; s/|/\x1f/g; s/\x1e/|/g' <<<"$line")"
  [[ "$id" =~ $only ]] || continue
  total=$((total + 1))
  cp -p "$file" "$file.mutate-orig"
  current=$file
  if ! apply "$file" "$from" "$to"; then
    printf '%-26s INVALID: the text to replace is not found once in %s\n' "$id" "$file"
    invalid=$((invalid + 1))
  elif ! ninja -C "$build" recgrid_tests >/tmp/mutate-build.log 2>&1; then
    printf '%-26s INVALID: does not compile (/tmp/mutate-build.log)\n' "$id"
    invalid=$((invalid + 1))
  else
    out=$(timeout 600 "$build/bin/recgrid_tests" --gtest_filter="$tests" --gtest_brief=1 2>&1 || true)
    failed=$(grep -E '^\[  FAILED  \] [A-Za-z]' <<<"$out" | sed 's/^\[  FAILED  \] //; s/ .*//' | sort -u | tr '\n' ' ' || true)
    if [ -n "$failed" ]; then
      printf '%-26s killed by %s\n' "$id" "$failed"
    elif grep -q 'PASSED' <<<"$out"; then
      printf '%-26s SURVIVED (%s: %s)\n' "$id" "$file" "$to"
      survived=$((survived + 1))
    else
      printf '%-26s killed (the tests crashed or timed out)\n' "$id"
    fi
  fi
  restore
done <<<"$mutants"
ninja -C "$build" recgrid_tests >/dev/null
echo "$((total - survived - invalid)) of $total mutants killed, $survived survived, $invalid invalid"
[ "$survived" -eq 0 ] && [ "$invalid" -eq 0 ]
