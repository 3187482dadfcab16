#include "train/text_inputs.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "data/npy.hpp"

namespace recgrid::train {

namespace {

std::string shape(int64_t rows, int64_t cols) {
  return "[" + std::to_string(rows) + " x " + (cols > 0 ? std::to_string(cols) : std::string("any")) + "]";
}

}  // namespace

NamedTensors load_text_inputs(const std::string& enhancer, const rg_input_spec* specs, uint32_t n_specs,
                              const std::vector<std::pair<std::string, std::string>>& files, int64_t n_users,
                              int64_t n_items, const at::Device& device, TableCache& cache) {
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
      for (size_t v = 0; v < t.values.size(); ++v)
        if (!std::isfinite(t.values[v]))
          throw std::runtime_error(path + ": " + what + ": value at row " + std::to_string(v / t.cols) + ", column " +
                                   std::to_string(v % t.cols) + " is not finite");
      table = at::from_blob(t.values.data(), {t.rows, t.cols}, at::kFloat).clone().to(device);
      cache[path] = table;
    }
    if (table.size(0) != rows || (spec.cols > 0 && table.size(1) != spec.cols))
      throw std::runtime_error(path + ": " + what + ": expected shape " + shape(rows, spec.cols) + ", found " +
                               shape(table.size(0), table.size(1)));
    out.add(spec.name, table);
  }
  return out;
}

}  // namespace recgrid::train
