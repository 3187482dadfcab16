// Checks shared by the enhancers that read a users table and an items table of one text source
// (profiles, intents).
#pragma once

#include <ATen/core/Tensor.h>

#include <stdexcept>
#include <string>

namespace recgrid {

// Both tables come from one encoder, so they must have the same width; the error names both.
inline void require_same_width(const std::string& plugin, const std::string& user_input, const at::Tensor& users,
                               const std::string& item_input, const at::Tensor& items) {
  if (users.size(1) != items.size(1))
    throw std::invalid_argument(plugin + ": " + user_input + " has " + std::to_string(users.size(1)) + " columns but " +
                                item_input + " has " + std::to_string(items.size(1)));
}

}  // namespace recgrid
