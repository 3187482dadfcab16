#include "llm/prompt_template.hpp"

#include <sstream>
#include <stdexcept>

#include "util/files.hpp"

namespace recgrid::llm {

PromptTemplate PromptTemplate::load(const std::string& path) {
  PromptTemplate t;
  t.path_ = path;
  std::istringstream in(read_text(path));
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line[0] == '#') {
      const std::string tag = "# answer:";
      if (line.rfind(tag, 0) == 0) {
        std::stringstream keys(line.substr(tag.size()));
        for (std::string k; std::getline(keys, k, ',');) {
          k.erase(0, k.find_first_not_of(" \t"));
          k.erase(k.find_last_not_of(" \t\r") + 1);
          if (!k.empty()) t.keys_.push_back(k);
        }
      }
      continue;
    }
    t.text_ += line + "\n";
    t.line_of_offset_.insert(t.line_of_offset_.end(), line.size() + 1, line_no);
  }
  if (t.keys_.empty()) throw std::runtime_error(path + ": no '# answer: key, ...' line declares the answer's keys");
  while (!t.text_.empty() && (t.text_.back() == '\n')) t.text_.pop_back();
  return t;
}

std::string PromptTemplate::render(const std::map<std::string, std::string>& values) const {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t open = text_.find("{{", at);
    if (open == std::string::npos) break;
    const size_t close = text_.find("}}", open);
    const int line = line_of_offset_[open];
    if (close == std::string::npos) throw std::runtime_error(path_ + ":" + std::to_string(line) + ": '{{' without '}}'");
    const std::string name = text_.substr(open + 2, close - open - 2);
    const auto it = values.find(name);
    if (it == values.end()) {
      std::string known;
      for (const auto& [k, v] : values) known += (known.empty() ? "" : ", ") + k;
      throw std::runtime_error(path_ + ":" + std::to_string(line) + ": unknown variable {{" + name + "}} (known: " + known + ")");
    }
    out += text_.substr(at, open - at) + it->second;
    at = close + 2;
  }
  return out + text_.substr(at);
}

}  // namespace recgrid::llm
