// One HTTP POST of a JSON body (libcurl): what the LLM and embedding clients send. Transport
// problems (refused connection, timeout) come back as status 0 with `error` set, never as exceptions,
// so the retry policy (retry_policy.hpp) sees every failure the same way.
#pragma once

#include <string>
#include <vector>

namespace recgrid::llm {

struct HttpResponse {
  long status = 0;            // HTTP status; 0 = no response (see error)
  std::string body;
  double retry_after_s = -1;  // the Retry-After header in seconds, -1 when absent
  std::string error;          // transport error text when status == 0
  bool timed_out = false;
};

HttpResponse post_json(const std::string& url, const std::string& body, const std::vector<std::string>& headers,
                       double timeout_s);

}  // namespace recgrid::llm
