#include "llm/chat_client.hpp"

#include <chrono>
#include <thread>

namespace recgrid::llm {

bool parse_answer(const std::string& content, const std::vector<std::string>& keys, nlohmann::json& out,
                  std::string& problem) {
  const size_t open = content.find('{'), close = content.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    problem = "no JSON object in the answer";
    return false;
  }
  try {
    out = nlohmann::json::parse(content.substr(open, close - open + 1));
  } catch (const nlohmann::json::exception& e) {
    problem = std::string("the JSON object does not parse: ") + e.what();
    return false;
  }
  if (!out.is_object()) {
    problem = "the answer is not a JSON object";
    return false;
  }
  for (const std::string& k : keys) {
    if (!out.contains(k) || !out[k].is_string() || out[k].get<std::string>().empty()) {
      problem = "the key \"" + k + "\" is missing or not a non-empty string";
      return false;
    }
  }
  return true;
}

nlohmann::json post_with_retries(const ServerConfig& server, const std::string& path, const nlohmann::json& body,
                                 std::mt19937_64& rng, int& retries,
                                 const std::function<void(const std::string&)>& on_retry) {
  std::vector<std::string> headers;
  if (!server.api_key.empty()) headers.push_back("Authorization: Bearer " + server.api_key);
  const std::string url = server.base_url + path, text = body.dump();
  for (int attempt = 0;; ++attempt) {
    const HttpResponse r = post_json(url, text, headers, server.timeout_s);
    std::string what;
    if (r.status >= 200 && r.status < 300) {
      try {
        return nlohmann::json::parse(r.body);
      } catch (const nlohmann::json::exception&) {
        what = "a 2xx answer whose body is not JSON";  // a broken proxy or server: try again
      }
    } else if (!RetryPolicy::retryable(r)) {
      throw LlmError(url + ": HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
    } else {
      what = r.status ? "HTTP " + std::to_string(r.status) : (r.timed_out ? "timeout" : r.error);
    }
    if (attempt + 1 >= server.retry.max_attempts)
      throw LlmError(url + ": gave up after " + std::to_string(attempt + 1) + " attempts (last: " + what + ")");
    const double wait = server.retry.delay_s(attempt, r, rng);
    ++retries;
    if (on_retry) on_retry(what + ", retrying in " + std::to_string(wait).substr(0, 4) + " s");
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

ChatResult ChatClient::ask(const std::string& prompt, const std::vector<std::string>& keys, std::mt19937_64& rng,
                           const std::function<void(const std::string&)>& on_retry) const {
  ChatResult result;
  nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", prompt}}});
  for (int turn = 0;; ++turn) {
    nlohmann::json body = {{"model", server_.model}, {"messages", messages}, {"temperature", options_.temperature}};
    if (options_.json_mode) body["response_format"] = {{"type", "json_object"}};
    const nlohmann::json reply = post_with_retries(server_, "/chat/completions", body, rng, result.retries, on_retry);
    if (reply.contains("usage")) {
      result.prompt_tokens += reply["usage"].value("prompt_tokens", int64_t{0});
      result.completion_tokens += reply["usage"].value("completion_tokens", int64_t{0});
    }
    std::string content, problem;
    try {
      content = reply.at("choices").at(0).at("message").at("content").get<std::string>();
    } catch (const nlohmann::json::exception&) {
      problem = "the reply has no choices[0].message.content";
    }
    if (problem.empty() && parse_answer(content, keys, result.answer, problem)) return result;
    if (turn >= options_.reasks) throw LlmError("no valid answer after " + std::to_string(turn + 1) + " turns: " + problem);
    ++result.reasks;
    if (on_retry) on_retry("malformed answer (" + problem + "), asking again");
    std::string wanted;
    for (const std::string& k : keys) wanted += (wanted.empty() ? "\"" : ", \"") + k + "\"";
    messages.push_back({{"role", "assistant"}, {"content", content}});
    messages.push_back({{"role", "user"},
                        {"content", "Your answer could not be used: " + problem +
                                        ". Reply with only a JSON object whose keys " + wanted + " are strings."}});
  }
}

}  // namespace recgrid::llm
