// What a run computes on: its device and its number of threads.
#pragma once

#include <c10/core/Device.h>

#include <string>

#include "config/run_config.hpp"

namespace recgrid::train {

// The device must exist in this LibTorch build before anything is put on it.
at::Device checked_device(const std::string& name);

// train.threads, or every core when it is 0.
int run_threads(const config::RunConfig& cfg);

}  // namespace recgrid::train
