#include "train/checkpoint.hpp"

#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <exception>
#include <stdexcept>

#include "util/files.hpp"
#include "util/torch_error.hpp"

namespace recgrid::train {

namespace {

void write_tensors(torch::serialize::OutputArchive& archive, const NamedTensors& params, const NamedTensors& buffers) {
  for (const auto& [name, t] : params) archive.write("param." + name, t.detach());
  for (const auto& [name, t] : buffers) archive.write("buffer." + name, t.detach(), /*is_buffer=*/true);
}

void read_tensors(torch::serialize::InputArchive& archive, const NamedTensors& params, const NamedTensors& buffers,
                  const std::string& path) {
  c10::NoGradGuard no_grad;
  for (const auto& [prefix, group] : {std::make_pair("param.", &params), std::make_pair("buffer.", &buffers)}) {
    for (const auto& [name, target] : *group) {
      at::Tensor saved;
      if (!archive.try_read(prefix + name, saved, std::string(prefix) == "buffer."))
        throw std::runtime_error(path + ": checkpoint has no tensor '" + name + "' (different model or options?)");
      if (!saved.sizes().equals(target.sizes()))
        throw std::runtime_error(path + ": tensor '" + name + "' has shape " + c10::str(saved.sizes()) +
                                 " in the checkpoint but " + c10::str(target.sizes()) + " in the model");
      const_cast<at::Tensor&>(target).copy_(saved);
    }
  }
}

// Streams the archive into an AtomicFile. A failed write is remembered and the rest of the stream
// dropped rather than thrown through LibTorch's zip writer (whose destructor would write again);
// it is thrown here afterwards, and the previous file stays in place.
void save_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  AtomicFile file(path);
  std::exception_ptr failure;
  archive.save_to([&](const void* data, size_t size) -> size_t {
    if (!failure) {
      try {
        file.write(data, size);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    return size;
  });
  if (failure) std::rethrow_exception(failure);
  file.commit();
}

at::Tensor scalar(double v) { return at::scalar_tensor(v, at::kDouble); }

// The archive holds tensors only: term names travel as the bytes of "name\nname\n...".
void write_mid_epoch(torch::serialize::OutputArchive& archive, const MidEpoch& m) {
  std::string names;
  std::vector<double> sums;
  for (const auto& [name, sum] : m.term_sums) names += name + "\n", sums.push_back(sum);
  archive.write("state.mid.epoch", scalar(static_cast<double>(m.epoch)), true);
  archive.write("state.mid.next_step", scalar(static_cast<double>(m.next_step)), true);
  archive.write("state.mid.total_sum", scalar(m.total_sum), true);
  archive.write("state.mid.train_s", scalar(m.train_s), true);
  archive.write("state.mid.term_names", at::tensor(std::vector<uint8_t>(names.begin(), names.end()), at::kByte), true);
  archive.write("state.mid.term_sums", at::tensor(sums, at::kDouble), true);
  if (m.rng_state.defined()) archive.write("state.mid.rng", m.rng_state, true);
}

// A checkpoint between epochs (or of an older version) has no "state.mid.*": mid.epoch stays -1.
MidEpoch read_mid_epoch(torch::serialize::InputArchive& archive) {
  MidEpoch m;
  at::Tensor first;  // a fresh tensor for every read: reading into a defined one resizes it in place
  if (!archive.try_read("state.mid.epoch", first, true)) return m;
  auto get = [&](const char* key) {
    at::Tensor t;
    archive.read(key, t, true);
    return t;
  };
  m.epoch = static_cast<int64_t>(first.item<double>());
  m.next_step = static_cast<int64_t>(get("state.mid.next_step").item<double>());
  m.total_sum = get("state.mid.total_sum").item<double>();
  m.train_s = get("state.mid.train_s").item<double>();
  const at::Tensor names = get("state.mid.term_names"), sums = get("state.mid.term_sums");
  const std::string text(reinterpret_cast<const char*>(names.data_ptr<uint8_t>()), static_cast<size_t>(names.numel()));
  size_t start = 0;
  for (int64_t k = 0; k < sums.numel(); ++k) {
    const size_t end = text.find('\n', start);
    m.term_sums.emplace_back(text.substr(start, end - start), sums[k].item<double>());
    start = end + 1;
  }
  at::Tensor rng;
  if (archive.try_read("state.mid.rng", rng, true)) m.rng_state = rng;
  return m;
}

}  // namespace

void save_checkpoint(const std::string& path, const NamedTensors& params, const NamedTensors& buffers,
                     torch::optim::Optimizer& optimizer, const LoopState& s) {
  torch::serialize::OutputArchive archive;
  write_tensors(archive, params, buffers);
  torch::serialize::OutputArchive opt;
  optimizer.save(opt);
  archive.write("optimizer", opt);
  archive.write("state.epoch", scalar(static_cast<double>(s.epoch)), true);
  archive.write("state.best_epoch", scalar(static_cast<double>(s.best_epoch)), true);
  archive.write("state.best_recall", scalar(s.best_recall), true);
  archive.write("state.bad_evals", scalar(static_cast<double>(s.bad_evals)), true);
  archive.write("state.elapsed_s", scalar(s.elapsed_s), true);
  if (s.mid.epoch >= 0) write_mid_epoch(archive, s.mid);
  if (!s.untrained.empty())  // (a stop inside epoch 0 keeps it for that epoch's line)
    archive.write("state.untrained", at::tensor(at::ArrayRef<uint8_t>(
                                         reinterpret_cast<const uint8_t*>(s.untrained.data()), s.untrained.size())),
                  true);
  save_archive(archive, path);
}

namespace {

LoopState read_checkpoint(const std::string& path, const NamedTensors& params, const NamedTensors& buffers,
                          torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  read_tensors(archive, params, buffers, path);
  torch::serialize::InputArchive opt;
  archive.read("optimizer", opt);
  optimizer.load(opt);
  auto get = [&](const char* key) {
    at::Tensor t;
    archive.read(key, t, true);
    return t.item<double>();
  };
  LoopState s;
  s.epoch = static_cast<int64_t>(get("state.epoch"));
  s.best_epoch = static_cast<int64_t>(get("state.best_epoch"));
  s.best_recall = get("state.best_recall");
  s.bad_evals = static_cast<int64_t>(get("state.bad_evals"));
  s.elapsed_s = get("state.elapsed_s");
  s.mid = read_mid_epoch(archive);
  at::Tensor untrained;
  if (archive.try_read("state.untrained", untrained, true))
    s.untrained.assign(reinterpret_cast<const char*>(untrained.data_ptr<uint8_t>()), static_cast<size_t>(untrained.numel()));
  return s;
}

}  // namespace

LoopState load_checkpoint(const std::string& path, const NamedTensors& params, const NamedTensors& buffers,
                          torch::optim::Optimizer& optimizer) {
  try {
    return read_checkpoint(path, params, buffers, optimizer);
  } catch (const c10::Error& e) {
    throw DamagedRunFile(path + ": not a complete RecGrid checkpoint of this run (" + torch_error_first_line(e) +
                         "). It may be truncated or come from another program: run again with --force to start "
                         "this run over, or choose another --out");
  } catch (const std::runtime_error& e) {  // a checkpoint of another model (tensor names or shapes differ)
    throw DamagedRunFile(std::string(e.what()) + ". Run again with --force to start this run over, or choose another --out");
  }
}

void save_tensors(const std::string& path, const NamedTensors& params, const NamedTensors& buffers) {
  torch::serialize::OutputArchive archive;
  write_tensors(archive, params, buffers);
  save_archive(archive, path);
}

void load_tensors(const std::string& path, const NamedTensors& params, const NamedTensors& buffers) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    read_tensors(archive, params, buffers, path);
  } catch (const c10::Error& e) {
    throw DamagedRunFile(path + ": not a complete RecGrid parameter file (" + torch_error_first_line(e) +
                         "). Run again with --force to start this run over");
  }
}

}  // namespace recgrid::train
