#include "eval/final_evaluation.hpp"

#include <memory>

#include "eval/beyond_accuracy.hpp"
#include "eval/group_metrics.hpp"
#include "eval/metrics.hpp"
#include "eval/per_user_file.hpp"
#include "eval/training_counts.hpp"

namespace recgrid::eval {

FinalEvaluation evaluate_with_analysis(const Evaluator& ev, const data::Dataset& ds, const AnalysisOptions& o,
                                       const EvaluationPass& pass) {
  const TrainingCounts counts = TrainingCounts::of(ds);
  const std::vector<int>& ks = ev.ks();
  std::vector<int64_t> n_train;
  for (int64_t u : ev.users()) n_train.push_back(counts.per_user[static_cast<size_t>(u)]);
  BeyondAccuracy beyond(ks, counts, o.metrics);
  GroupMetrics groups(ks, UserBuckets::quantiles(n_train, o.user_groups), ItemGroups::by_share(counts.per_item, o.head_share));
  std::unique_ptr<PerUserFile> file;
  if (!o.per_user_path.empty()) file = std::make_unique<PerUserFile>(o.per_user_path, ks, beyond.per_user_names());
  std::vector<double> recall(ks.size()), ndcg(ks.size()), extra(ks.size() * beyond.per_user_names().size());
  const auto on_list = [&](int64_t u, const int64_t* ranked, int n, const int64_t* truth_begin, const int64_t* truth_end) {
    const int64_t n_tr = counts.per_user[static_cast<size_t>(u)];
    user_recall_ndcg(ks, ranked, n, truth_begin, truth_end, recall.data(), ndcg.data());
    beyond.add_user(ranked, n, extra.data());
    groups.add_user(n_tr, ranked, n, truth_begin, truth_end, recall.data(), ndcg.data());
    if (file) file->add_row(u, n_tr, truth_end - truth_begin, recall.data(), ndcg.data(), extra.data());
  };
  FinalEvaluation r;
  r.metrics = pass(on_list);
  for (const auto& [name, value] : beyond.means()) r.metrics[name] = value;
  r.groups = groups.to_json();
  if (file) file->commit();
  return r;
}

FinalEvaluation evaluate_with_analysis(const Evaluator& ev, const data::Dataset& ds, const AnalysisOptions& o,
                                       const EncodeFn& encode, bool encode_per_batch) {
  return evaluate_with_analysis(ev, ds, o, [&](const RankedListFn& on_list) { return ev.run(encode, encode_per_batch, on_list); });
}

}  // namespace recgrid::eval
