// The C++ side of `rg_tensor_list`: an ordered list of named at::Tensor values.
// Order matters: loss terms are summed in list order, so results are reproducible.
#pragma once

#include <ATen/core/Tensor.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "recgrid/abi.h"

namespace recgrid {

class NamedTensors {
 public:
  using Entry = std::pair<std::string, at::Tensor>;

  void add(std::string name, at::Tensor value) { entries_.emplace_back(std::move(name), std::move(value)); }
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  const at::Tensor* find(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.first == name) return &e.second;
    return nullptr;
  }
  const at::Tensor& at(const std::string& name) const {
    if (const at::Tensor* t = find(name)) return *t;
    throw std::out_of_range("no tensor named '" + name + "' (have: " + names() + ")");
  }
  std::string names() const {
    std::string s;
    for (const auto& e : entries_) s += (s.empty() ? "" : ", ") + e.first;
    return s;
  }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }

 private:
  std::vector<Entry> entries_;
};

}  // namespace recgrid

// The definition behind the opaque C handle.
struct rg_tensor_list_s {
  recgrid::NamedTensors items;
};
