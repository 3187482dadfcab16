#include "llm/generation_job.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "util/format.hpp"
#include "util/hash.hpp"
#include "util/status_line.hpp"

namespace recgrid::llm {

namespace {

// The prompts the cache has no answer for (and every prompt's cache key).
struct Unanswered {
  std::vector<size_t> todo;
  std::vector<std::string> keys;
};

Unanswered find_unanswered(const std::vector<GenerationTask>& tasks, const AnswerCache& cache, const std::string& model,
                           GenerationSummary& s) {
  Unanswered u;
  u.keys.resize(tasks.size());
  for (size_t k = 0; k < tasks.size(); ++k) {
    u.keys[k] = AnswerCache::key(tasks[k].entity, fnv1a64_hex(tasks[k].prompt), model);
    if (cache.find(u.keys[k])) ++s.cached;
    else u.todo.push_back(k);
  }
  return u;
}

// "item_intent: 120/500 asked (3.1/s), ETA 2 min, tokens ..., 0 failed": redrawn on a terminal,
// otherwise a line every tenth of the work.
class GenerationProgress {
 public:
  GenerationProgress(const GenerationOptions& o, size_t total) : o_(o), total_(total), line_(o.progress_tty) {}

  void show(size_t done, const GenerationSummary& s, bool final) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    char line[256];
    std::snprintf(line, sizeof line, "%s: %zu/%zu asked (%.1f/s), ETA %s, tokens %lld in / %lld out, %lld retries, %zu failed",
                  o_.kind.c_str(), done, total_, rate,
                  rate > 0 ? format_duration(static_cast<double>(total_ - done) / rate).c_str() : "?",
                  static_cast<long long>(s.prompt_tokens), static_cast<long long>(s.completion_tokens),
                  static_cast<long long>(s.retries + s.reasks), s.failures.size());
    if (o_.progress_tty && !final) {
      line_.draw(line);
    } else if (final || done - last_shown_ >= std::max<size_t>(1, total_ / 10)) {
      line_.event(line);
      last_shown_ = done;
    }
  }

 private:
  const GenerationOptions& o_;
  size_t total_, last_shown_ = 0;
  StatusLine line_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

GenerationSummary generate(const std::vector<GenerationTask>& tasks, const ChatClient& client, AnswerCache& cache,
                           const GenerationOptions& o) {
  GenerationSummary s;
  const std::string& model = client.server().model;
  const Unanswered u = find_unanswered(tasks, cache, model, s);
  std::cerr << o.kind << ": " << tasks.size() << " prompts, " << s.cached << " answered before (cache), " << u.todo.size()
            << " to ask " << model << " with " << o.concurrency << " at a time" << std::endl;
  std::atomic<size_t> next{0};
  std::mutex m;  // guards s, done and progress
  size_t done = 0;
  GenerationProgress progress(o, u.todo.size());
  auto worker = [&](int id) {
    std::mt19937_64 rng(0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(id));
    for (size_t j; (j = next.fetch_add(1)) < u.todo.size();) {
      const GenerationTask& t = tasks[u.todo[j]];
      try {
        const ChatResult r = client.ask(t.prompt, o.keys, rng);
        cache.append(u.keys[u.todo[j]], {{"entity", t.entity}, {"kind", o.kind}, {"model", model},
                                         {"prompt_hash", fnv1a64_hex(t.prompt)}, {"answer", r.answer},
                                         {"usage", {{"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens}}}});
        std::lock_guard<std::mutex> lock(m);
        ++s.asked, ++done;
        s.retries += r.retries, s.reasks += r.reasks;
        s.prompt_tokens += r.prompt_tokens, s.completion_tokens += r.completion_tokens;
        progress.show(done, s, false);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(m);
        ++done;
        s.failures.push_back(t.entity + ": " + e.what());
        progress.show(done, s, false);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int k = 0; k < std::max(1, o.concurrency); ++k) pool.emplace_back(worker, k);
  for (auto& t : pool) t.join();
  progress.show(done, s, true);
  return s;
}

}  // namespace recgrid::llm
