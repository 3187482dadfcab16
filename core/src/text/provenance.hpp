// The provenance sidecar of a text table: `<table>.npy.json` beside the table, written by
// `recgrid text build` / `recgrid embed`, checked by the host whenever an enhancer loads the table.
//
//   {"format": "recgrid-text-table/1", "rows": R, "cols": C, "entities": "users" | "items",
//    "source": {"file": ..., "field": ..., "documents": ...}, "encoder": {...},
//    "checksum": "fnv1a64:<hex of the .npy file's bytes>", "recgrid_version": ..., "created": ...}
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace recgrid::text {

std::string sidecar_path(const std::string& table_path);

// Writes the sidecar of the table at `table_path` (which must exist: its bytes are hashed).
void write_provenance(const std::string& table_path, int64_t rows, int64_t cols, const std::string& entities,
                      const nlohmann::json& source, const nlohmann::json& encoder);

// When `table_path` has a sidecar: checks the file's checksum and the shape it records against
// (rows, cols), throwing std::runtime_error that says what differs; returns the sidecar (null when
// there is none: tables from elsewhere, such as the paper's pickles, carry no provenance).
nlohmann::json check_provenance(const std::string& table_path, int64_t rows, int64_t cols);

}  // namespace recgrid::text
