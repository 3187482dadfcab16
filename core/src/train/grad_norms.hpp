// RECGRID_GRAD_NORMS=FILE (developers): each training step, every loss term's own gradient norm,
// appended to FILE as one JSON line: over all trainable parameters, and over the base model's ID
// tables alone (the tables BPR trains). Costs one extra backward per term; off unless the variable is
// set. What it showed for irllrec-ref is in plugins/enhancers/irllrec/README.md.
#pragma once

#include <cstdint>

#include "recgrid/tensor_list.hpp"

namespace recgrid::train {

// Appends {"epoch", "step", "all": {term: norm}, "id_tables": {term: norm}} when RECGRID_GRAD_NORMS is set.
void log_term_gradient_norms(int64_t epoch, int64_t step, const NamedTensors& terms, const NamedTensors& parameters);

}  // namespace recgrid::train
