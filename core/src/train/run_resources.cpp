#include "train/run_resources.hpp"

#include <ATen/Context.h>

#include <algorithm>
#include <thread>

#include "config/config.hpp"

namespace recgrid::train {

at::Device checked_device(const std::string& name) {
  const at::Device device(name);
  if (device.is_cuda() && !at::hasCUDA())
    throw config::ConfigError("train.device is '" + name + "', but this LibTorch build has no CUDA support: set "
                              "train.device=cpu, or build RecGrid against a CUDA LibTorch (cmake -DTorch_DIR=...)");
  return device;
}

int run_threads(const config::RunConfig& cfg) {
  return cfg.train.threads > 0 ? static_cast<int>(cfg.train.threads)
                               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace recgrid::train
