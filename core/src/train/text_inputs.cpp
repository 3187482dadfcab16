#include "train/text_inputs.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <map>
#include <stdexcept>

#include "data/npy.hpp"
#include "data/table_tensor.hpp"
#include "text/provenance.hpp"
#include "data/pca.hpp"

namespace recgrid::train {

namespace {

std::string shape(int64_t rows, int64_t cols) {
  return "[" + std::to_string(rows) + " x " + (cols > 0 ? std::to_string(cols) : std::string("any")) + "]";
}

// The reduced table of `path` (cached under "<path>#pca<dim>"), or `table` itself when it is not wider.
at::Tensor reduced(const std::string& path, const std::string& what, const at::Tensor& table,
                   const TextReduction& reduce, TableCache& cache) {
  if (reduce.dim <= 0 || table.size(1) <= reduce.dim) return table;
  const std::string key = path + "#pca" + std::to_string(reduce.dim);
  if (auto hit = cache.find(key); hit != cache.end()) return hit->second;
  if (reduce.dim > table.size(0))
    throw std::runtime_error(path + ": " + what + ": text.reduce_dim " + std::to_string(reduce.dim) +
                             " exceeds the table's " + std::to_string(table.size(0)) + " rows");
  const auto start = std::chrono::steady_clock::now();
  data::Pca pca = data::principal_components(table, reduce.dim);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (reduce.report) {
    char line[160];
    std::snprintf(line, sizeof line, ": PCA %lld -> %lld columns keeps %.1f %% of the variance (%.2f s)",
                  static_cast<long long>(table.size(1)), static_cast<long long>(reduce.dim), 100.0 * pca.explained,
                  seconds);
    reduce.report(path + line);
  }
  cache[key] = pca.scores;
  return pca.scores;
}

}  // namespace

NamedTensors load_text_inputs(const std::string& enhancer, const rg_input_spec* specs, uint32_t n_specs,
                              const std::vector<std::pair<std::string, std::string>>& files, int64_t n_users,
                              int64_t n_items, const at::Device& device, TableCache& cache,
                              const TextReduction& reduce) {
  NamedTensors out;
  for (uint32_t k = 0; k < n_specs; ++k) {
    const rg_input_spec& spec = specs[k];
    const bool users = spec.rows == RG_ROWS_USERS;
    const int64_t rows = users ? n_users : n_items;
    const std::string what = "enhancer '" + enhancer + "' input '" + spec.name + "' (" + (users ? "users" : "items") +
                             " x " + (spec.cols > 0 ? std::to_string(spec.cols) : std::string("any")) + " floats" +
                             (spec.help && *spec.help ? ": " + std::string(spec.help) : std::string()) + ")";
    const auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.first == spec.name; });
    if (it == files.end())
      throw std::runtime_error(what + " has no file: set dataset.text." + spec.name +
                               " to a .npy or pickled numpy file (relative to the dataset folder)");
    const std::string& path = it->second;
    at::Tensor table;
    if (auto hit = cache.find(path); hit != cache.end()) {
      table = hit->second;
    } else {
      data::FloatTable t = data::read_table(path);
      if (t.rows != rows || (spec.cols > 0 && t.cols != spec.cols))
        throw std::runtime_error(path + ": " + what + ": expected shape " + shape(rows, spec.cols) + ", found " +
                                 shape(t.rows, t.cols));
      // Tables RecGrid built carry a provenance sidecar: the file must be what was built, for the
      // entities the input is about.
      const nlohmann::json provenance = text::check_provenance(path, t.rows, t.cols);
      if (!provenance.is_null() && provenance.value("entities", "") != (users ? "users" : "items"))
        throw std::runtime_error(path + ": " + what + ": built for " + provenance.value("entities", "?") + " (" +
                                 text::sidecar_path(path) + ")");
      for (size_t v = 0; v < t.values.size(); ++v)
        if (!std::isfinite(t.values[v]))
          throw std::runtime_error(path + ": " + what + ": value at row " + std::to_string(v / t.cols) + ", column " +
                                   std::to_string(v % t.cols) + " is not finite");
      table = data::to_tensor(t).to(device);
      cache[path] = table;
    }
    if (table.size(0) != rows || (spec.cols > 0 && table.size(1) != spec.cols))
      throw std::runtime_error(path + ": " + what + ": expected shape " + shape(rows, spec.cols) + ", found " +
                               shape(table.size(0), table.size(1)));
    out.add(spec.name, spec.cols > 0 ? table : reduced(path, what, table, reduce, cache));
  }
  return out;
}

}  // namespace recgrid::train
