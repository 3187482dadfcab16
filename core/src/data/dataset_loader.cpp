#include "data/dataset_loader.hpp"

#include <algorithm>

#include "data/synthetic.hpp"
#include "data/table_tensor.hpp"

namespace recgrid::data {

namespace {

// A dataset of files: TSV, or else the SSLRec pickles.
Dataset read_files(const config::DatasetConfig& c) {
  return c.format == "tsv" ? load_tsv(c.path, c.n_users, c.n_items) : load_sslrec(c.path);
}

}  // namespace

Dataset load_dataset(const config::DatasetConfig& c, const at::Device& device,
                     std::vector<std::pair<std::string, std::string>>& text_files,
                     std::map<std::string, at::Tensor>& preloaded) {
  text_files = c.text;
  Dataset ds;
  if (c.format == "synthetic") {
    SyntheticData s = generate_synthetic(synth_options_from_json(c.synthetic));
    const std::pair<const char*, const FloatTable*> tables[] = {{"profile_user", &s.profile_user},
                                                                {"profile_item", &s.profile_item},
                                                                {"intent_user", &s.intent_user},
                                                                {"intent_item", &s.intent_item}};
    for (auto [name, t] : tables) {
      const std::string key = std::string("<synthetic>/") + name;
      const bool named = std::any_of(c.text.begin(), c.text.end(), [&](const auto& f) { return f.first == name; });
      if (!named) text_files.emplace_back(name, key);
      preloaded[key] = to_tensor(*t).to(device);
    }
    ds = std::move(s.dataset);
  } else {
    ds = read_files(c);
  }
  if (!c.name.empty()) ds.name = c.name;
  return ds;
}

Dataset load_interactions(const config::DatasetConfig& c) {
  Dataset ds;
  if (c.format == "synthetic") ds = generate_synthetic(synth_options_from_json(c.synthetic)).dataset;
  else ds = read_files(c);
  if (!c.name.empty()) ds.name = c.name;
  return ds;
}

}  // namespace recgrid::data
