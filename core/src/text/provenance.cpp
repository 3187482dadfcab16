#include "text/provenance.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "recgrid/version.hpp"
#include "util/files.hpp"
#include "util/format.hpp"
#include "util/hash.hpp"

namespace recgrid::text {

namespace {

std::string file_checksum(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open file");
  Fnv1a64 h;
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) h.update(buf, static_cast<size_t>(f.gcount()));
  return "fnv1a64:" + h.hex();
}

}  // namespace

std::string sidecar_path(const std::string& table_path) { return table_path + ".json"; }

void write_provenance(const std::string& table_path, int64_t rows, int64_t cols, const std::string& entities,
                      const nlohmann::json& source, const nlohmann::json& encoder) {
  const nlohmann::json p = {{"format", "recgrid-text-table/1"}, {"rows", rows},        {"cols", cols},
                            {"entities", entities},             {"source", source},    {"encoder", encoder},
                            {"checksum", file_checksum(table_path)}, {"recgrid_version", RECGRID_VERSION},
                            {"created", utc_now()}};
  write_file_atomic(sidecar_path(table_path), p.dump(2) + "\n");
}

nlohmann::json check_provenance(const std::string& table_path, int64_t rows, int64_t cols) {
  const std::string side = sidecar_path(table_path);
  if (!std::filesystem::exists(side)) return nullptr;
  nlohmann::json p;
  try {
    p = nlohmann::json::parse(read_text(side));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(side + ": not a provenance record: " + e.what());
  }
  if (p.value("format", "") != "recgrid-text-table/1") throw std::runtime_error(side + ": unknown provenance format");
  const std::string recorded = p.value("checksum", ""), actual = file_checksum(table_path);
  if (recorded != actual)
    throw std::runtime_error(table_path + ": its bytes changed after it was built (checksum " + actual + ", " + side +
                             " records " + recorded + "); rebuild it with `recgrid text build` or delete the sidecar");
  if (p.value("rows", int64_t{-1}) != rows || p.value("cols", int64_t{-1}) != cols)
    throw std::runtime_error(side + " records a " + std::to_string(p.value("rows", int64_t{-1})) + " x " +
                             std::to_string(p.value("cols", int64_t{-1})) + " table but the file holds " +
                             std::to_string(rows) + " x " + std::to_string(cols));
  return p;
}

}  // namespace recgrid::text
