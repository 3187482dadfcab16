// Builds the bipartite training graph of ALGORITHMS.md §1.2 as tensors on the run's device.
#pragma once

#include <ATen/core/Tensor.h>

#include "data/dataset.hpp"
#include "recgrid/graph.hpp"
#include "recgrid/tensor_list.hpp"

namespace recgrid::data {

// A = [[0, R], [R^T, 0]] with R = the training interactions; users are nodes [0, M), items [M, M+N).
Graph build_graph(const Dataset& ds, const at::Device& device);

// The graph and training interactions under the names abi.h documents for rg_context.graph.
NamedTensors graph_tensors(const Graph& graph, const Dataset& ds, const at::Device& device);

}  // namespace recgrid::data
