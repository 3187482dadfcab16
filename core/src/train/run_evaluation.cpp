#include "train/run_evaluation.hpp"

#include <ATen/ATen.h>

#include <cstdio>

#include "train/random_streams.hpp"
#include "train/timing.hpp"
#include "util/random.hpp"

namespace recgrid::train {

std::map<std::string, double> evaluate(RunParts& p, const eval::Evaluator& ev, uint64_t seed, uint64_t stream) {
  at::manual_seed(derive_seed(seed, kEvalTorch, stream));
  return ev.run([&] { return p.model->eval_embeddings(); }, p.model->encode_per_eval_batch());
}

nlohmann::json evaluate_untrained(RunParts& p, const config::RunConfig& cfg, spdlog::logger& log) {
  const auto start = Clock::now();
  const auto valid = evaluate(p, *p.valid_eval, cfg.train.seed, kUntrainedValidStream);
  const double eval_s = seconds_since(start);
  log.info("untrained model: valid {} ({:.2f} s eval)", format_metrics(valid, cfg.train.topk), eval_s);
  return {{"valid", valid}, {"eval_time_s", eval_s}};
}

eval::FinalEvaluation evaluate_final(RunParts& p, const eval::Evaluator& ev, const config::RunConfig& cfg,
                                     uint64_t stream, const std::string& per_user_file) {
  at::manual_seed(derive_seed(cfg.train.seed, kEvalTorch, stream));
  const eval::AnalysisOptions options{cfg.eval.metrics, static_cast<int>(cfg.eval.user_groups), cfg.eval.head_share,
                                      per_user_file};
  return eval::evaluate_with_analysis(ev, p.dataset, options, [&] { return p.model->eval_embeddings(); },
                                      p.model->encode_per_eval_batch());
}

std::string format_metrics(const std::map<std::string, double>& m, const std::vector<int>& ks) {
  std::string s;
  char buf[64];
  for (int k : ks) {
    std::snprintf(buf, sizeof buf, "R@%d %.4f N@%d %.4f  ", k, m.at("recall@" + std::to_string(k)), k,
                  m.at("ndcg@" + std::to_string(k)));
    s += buf;
  }
  return s;
}

}  // namespace recgrid::train
