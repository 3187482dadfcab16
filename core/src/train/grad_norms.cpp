#include "train/grad_norms.hpp"

#include <torch/csrc/autograd/autograd.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "util/files.hpp"
#include "util/test_hooks.hpp"

namespace recgrid::train {

namespace {

bool is_id_table(const std::string& name) {
  const auto ends_with = [&](const char* s) {
    const std::string t(s);
    return name.size() >= t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0;
  };
  return ends_with(".user_emb") || ends_with(".item_emb");
}

}  // namespace

void log_term_gradient_norms(int64_t epoch, int64_t step, const NamedTensors& terms, const NamedTensors& parameters) {
  const std::string& path = test_hooks::grad_norms_file();
  if (path.empty()) return;
  std::vector<at::Tensor> params;
  std::vector<bool> id_table;
  for (const auto& [name, t] : parameters) {
    if (!t.requires_grad()) continue;
    params.push_back(t);
    id_table.push_back(is_id_table(name));
  }
  nlohmann::json all = nlohmann::json::object(), id = nlohmann::json::object();
  for (const auto& [name, term] : terms) {
    if (!term.requires_grad()) continue;
    const auto grads = torch::autograd::grad({term}, params, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                             /*allow_unused=*/true);
    double sq_all = 0, sq_id = 0;
    for (size_t k = 0; k < grads.size(); ++k) {
      if (!grads[k].defined()) continue;
      const double sq = grads[k].pow(2).sum().item<double>();
      sq_all += sq;
      if (id_table[k]) sq_id += sq;
    }
    all[name] = std::sqrt(sq_all);
    id[name] = std::sqrt(sq_id);
  }
  append_line_whole(path, nlohmann::json{{"epoch", epoch}, {"step", step}, {"all", all}, {"id_tables", id}}.dump() + "\n");
}

}  // namespace recgrid::train
