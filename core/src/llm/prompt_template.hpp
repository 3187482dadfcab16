// Prompt templates (configs/prompts/*.txt): text with {{variable}} placeholders. Lines starting with
// '#' are comments for the people editing the file; a comment "# answer: key1, key2" declares the
// string keys the JSON answer must have (what the chat client checks and re-asks for).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace recgrid::llm {

class PromptTemplate {
 public:
  static PromptTemplate load(const std::string& path);
  // Replaces every {{name}}; a placeholder without a value is an error naming file:line.
  std::string render(const std::map<std::string, std::string>& values) const;
  const std::vector<std::string>& answer_keys() const { return keys_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_, text_;
  std::vector<int> line_of_offset_;  // template line of each character of text_ (for errors)
  std::vector<std::string> keys_;
};

}  // namespace recgrid::llm
