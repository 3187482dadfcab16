#include "train/trained_model.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <stdexcept>

#include "train/checkpoint.hpp"
#include "train/random_streams.hpp"
#include "train/run_folder.hpp"
#include "train/run_parts.hpp"
#include "train/run_resources.hpp"
#include "util/random.hpp"

namespace recgrid::train {

namespace fs = std::filesystem;

TrainedModel load_trained_model(const std::string& run_dir, const config::RunConfig& cfg,
                                const plugin::Registry& registry) {
  if (!fs::exists(run_dir + "/best.pt"))
    throw std::runtime_error(run_dir + " has no best.pt: no epoch of it was evaluated yet (run it first, or --resume it)");
  spdlog::logger log("export", console_sink());
  at::set_num_threads(run_threads(cfg));
  ModelParts p;
  build_model(p, cfg, registry, checked_device(cfg.train.device), log);
  load_tensors(run_dir + "/best.pt", p.model->parameters(), p.model->buffers());
  at::manual_seed(derive_seed(cfg.train.seed, kEvalTorch, kFinalValidStream));  // as the final evaluation
  TrainedModel t;
  t.embeddings = p.model->eval_embeddings();
  t.text_side = p.model->text_side_embeddings();
  t.dataset = std::move(p.dataset);
  return t;
}

}  // namespace recgrid::train
