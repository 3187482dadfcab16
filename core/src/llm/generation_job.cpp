#include "llm/generation_job.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "util/format.hpp"
#include "util/hash.hpp"

namespace recgrid::llm {

GenerationSummary generate(const std::vector<GenerationTask>& tasks, const ChatClient& client, AnswerCache& cache,
                           const GenerationOptions& o) {
  GenerationSummary s;
  std::vector<size_t> todo;
  std::vector<std::string> keys(tasks.size());
  const std::string& model = client.server().model;
  for (size_t k = 0; k < tasks.size(); ++k) {
    keys[k] = AnswerCache::key(tasks[k].entity, fnv1a64_hex(tasks[k].prompt), model);
    if (cache.find(keys[k])) ++s.cached;
    else todo.push_back(k);
  }
  std::cerr << o.kind << ": " << tasks.size() << " prompts, " << s.cached << " answered before (cache), " << todo.size()
            << " to ask " << model << " with " << o.concurrency << " at a time" << std::endl;
  std::atomic<size_t> next{0};
  std::mutex m;
  size_t done = 0, last_report = 0;
  const auto start = std::chrono::steady_clock::now();
  auto report = [&](bool final) {  // under m
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    char line[256];
    std::snprintf(line, sizeof line, "%s: %zu/%zu asked (%.1f/s), ETA %s, tokens %lld in / %lld out, %lld retries, %zu failed",
                  o.kind.c_str(), done, todo.size(), rate,
                  rate > 0 ? format_duration(static_cast<double>(todo.size() - done) / rate).c_str() : "?",
                  static_cast<long long>(s.prompt_tokens), static_cast<long long>(s.completion_tokens),
                  static_cast<long long>(s.retries + s.reasks), s.failures.size());
    if (o.progress_tty) std::cerr << "\r\033[K" << line << (final ? "\n" : "") << std::flush;
    else if (final || done - last_report >= std::max<size_t>(1, todo.size() / 10)) {
      std::cerr << line << std::endl;
      last_report = done;
    }
  };
  auto worker = [&](int id) {
    std::mt19937_64 rng(0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(id));
    for (size_t j; (j = next.fetch_add(1)) < todo.size();) {
      const GenerationTask& t = tasks[todo[j]];
      try {
        const ChatResult r = client.ask(t.prompt, o.keys, rng);
        cache.append(keys[todo[j]], {{"entity", t.entity}, {"kind", o.kind}, {"model", model},
                                     {"prompt_hash", fnv1a64_hex(t.prompt)}, {"answer", r.answer},
                                     {"usage", {{"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens}}}});
        std::lock_guard<std::mutex> lock(m);
        ++s.asked, ++done;
        s.retries += r.retries, s.reasks += r.reasks;
        s.prompt_tokens += r.prompt_tokens, s.completion_tokens += r.completion_tokens;
        report(false);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(m);
        ++done;
        s.failures.push_back(t.entity + ": " + e.what());
        report(false);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int k = 0; k < std::max(1, o.concurrency); ++k) pool.emplace_back(worker, k);
  for (auto& t : pool) t.join();
  std::lock_guard<std::mutex> lock(m);
  report(true);
  return s;
}

}  // namespace recgrid::llm
