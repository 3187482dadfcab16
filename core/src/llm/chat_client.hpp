// A client for OpenAI-compatible chat-completion servers (the hosted API, vLLM, llama.cpp server,
// Ollama): POST {base_url}/chat/completions, with retries (retry_policy.hpp) and strict parsing of
// the JSON object the prompt asks for, re-asking when the answer is not one.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "llm/retry_policy.hpp"

namespace recgrid::llm {

class LlmError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServerConfig {
  std::string base_url;  // e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1
  std::string model;
  std::string api_key;   // sent as "Authorization: Bearer ..." when not empty
  double timeout_s = 120;
  RetryPolicy retry;
};

struct ChatOptions {
  double temperature = 0;
  bool json_mode = true;  // response_format {"type": "json_object"} (servers that lack it ignore it)
  int reasks = 2;         // extra turns asking again for valid JSON
};

struct ChatResult {
  nlohmann::json answer;  // the parsed object, with every expected key a non-empty string
  int64_t prompt_tokens = 0, completion_tokens = 0;
  int retries = 0, reasks = 0;
};

// The JSON object in a model's reply (code fences and text around it tolerated), if it has every
// key in `keys` as a non-empty string; otherwise a description of what is wrong.
bool parse_answer(const std::string& content, const std::vector<std::string>& keys, nlohmann::json& out,
                  std::string& problem);

// POSTs `body` to base_url + path with the policy's retries; `on_retry(text)` hears about each
// retry. Returns the parsed JSON body of a 2xx answer; throws LlmError when retries run out or the
// server refuses for good (other 4xx).
nlohmann::json post_with_retries(const ServerConfig& server, const std::string& path, const nlohmann::json& body,
                                 std::mt19937_64& rng, int& retries,
                                 const std::function<void(const std::string&)>& on_retry = {});

class ChatClient {
 public:
  ChatClient(ServerConfig server, ChatOptions options) : server_(std::move(server)), options_(options) {}
  ChatResult ask(const std::string& prompt, const std::vector<std::string>& keys, std::mt19937_64& rng,
                 const std::function<void(const std::string&)>& on_retry = {}) const;
  const ServerConfig& server() const { return server_; }

 private:
  ServerConfig server_;
  ChatOptions options_;
};

}  // namespace recgrid::llm
