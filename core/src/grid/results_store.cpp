#include "grid/results_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "config/run_config.hpp"
#include "util/files.hpp"
#include "util/format.hpp"

namespace recgrid::grid {

namespace fs = std::filesystem;

namespace {

// Serialises writers of one grid folder (an flock, dropped by the kernel if a holder dies).
class FolderLock {
 public:
  explicit FolderLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error(path + ": cannot open lock file");
    if (::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      throw std::runtime_error(path + ": flock failed");
    }
  }
  ~FolderLock() { ::close(fd_); }

 private:
  int fd_;
};

}  // namespace

nlohmann::json make_record(const std::string& grid_name, const CellInfo& cell, const nlohmann::json& run_results) {
  nlohmann::json record = {
      {"grid", grid_name},
      {"cell", cell.id},
      {"hash", cell.hash},
      {"folder", fs::path(cell.dir).filename().string()},
      {"axes", cell.axes},
      {"finished_at", utc_now()},
      {"config", config::to_json(YAML::Load(cell.resolved_yaml))},
  };
  for (const char* key : {"dataset", "model", "enhancers", "seed", "status", "no_learning", "error", "valid", "test", "groups",
                          "best_epoch", "epochs_run",
                          "stopped_by", "wall_time_s", "setup_time_s", "median_epoch_train_s", "median_eval_s",
                          "peak_rss_mib", "threads", "recgrid_version", "plugins"})
    if (run_results.contains(key)) record[key] = run_results[key];
  if (!cell.tuned.is_null()) record["tuned"] = cell.tuned;  // the row's values chosen by the grid's search
  return record;
}

std::string why_not_a_result(const nlohmann::json& record) {
  if (record.value("status", std::string("ok")) == "ok") return "";
  std::string why = record.value("error", std::string());
  for (const auto& r : record.value("no_learning", nlohmann::json::array()))
    why += (why.empty() ? "" : "; ") + r.get<std::string>();
  return why;
}

bool has_record(const CellInfo& cell) { return fs::exists(cell.dir + "/record.json"); }

void write_record(const CellInfo& cell, const nlohmann::json& record) {
  write_file_atomic(cell.dir + "/record.json", record.dump() + "\n");
}

void rebuild_results(const std::string& out_dir, const std::vector<CellInfo>& cells) {
  FolderLock lock(out_dir + "/results.lock");
  std::string text;
  for (const CellInfo& cell : cells) {
    if (!has_record(cell)) continue;
    // Compact one-line JSON whatever the record file's layout.
    text += nlohmann::json::parse(read_text(cell.dir + "/record.json")).dump() + "\n";
  }
  write_file_atomic(out_dir + "/results.jsonl", text);
}

void write_grid_index(const std::string& out_dir, const std::string& name, const std::string& file,
                      const std::vector<CellInfo>& cells) {
  nlohmann::json index = {{"name", name}, {"file", file}, {"cells", nlohmann::json::array()}};
  for (const CellInfo& c : cells)
    index["cells"].push_back({{"id", c.id}, {"dir", fs::path(c.dir).filename().string()}, {"axes", c.axes},
                              {"axis_order", c.axis_order}});
  FolderLock lock(out_dir + "/results.lock");
  write_file_atomic(out_dir + "/grid.json", index.dump(2) + "\n");
}

std::vector<nlohmann::json> read_results(const std::string& out_dir) {
  const std::string path = out_dir + "/results.jsonl";
  if (!fs::exists(path)) throw std::runtime_error(path + ": no such file (is " + out_dir + " a grid folder?)");
  std::vector<nlohmann::json> records;
  int line_no = 0;
  for (const std::string& line : read_lines(path)) {
    ++line_no;
    try {
      records.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": not a JSON record: " + e.what());
    }
  }
  return records;
}

}  // namespace recgrid::grid
