// File helpers for run folders: atomic writes (a killed process leaves the old file or the new one,
// never half of one) and small readers.
#pragma once

#include <string>
#include <vector>

namespace recgrid {

// Writes `text` to `path` through `path.tmp` + fsync + rename.
void write_file_atomic(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);
std::vector<std::string> read_lines(const std::string& path);  // empty if the file does not exist
// Peak resident memory of this process so far, in MiB.
double peak_rss_mib();

}  // namespace recgrid
