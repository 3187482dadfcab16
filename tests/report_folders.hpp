// Grid folders made by hand for report tests: records in results.jsonl, and per cell a run folder with
// results.json and, unless left out (a run from before them), per_user_test.tsv.gz in the format of the
// per-user contract (header `user n_train n_truth recall@20 ndcg@20 ...`, one row per user, ascending).
#pragma once

#include <zlib.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace recgrid::test {

struct FakeRun {
  std::string model, stack, seed, status = "ok";
  std::vector<int64_t> users;           // ascending
  std::vector<double> recall, ndcg;     // per user
  std::vector<int64_t> n_train;         // per user
  bool per_user_file = true;
  nlohmann::json extra_test = nlohmann::json::object();  // more keys of results.json's "test" (coverage@20, ...)
  nlohmann::json test_groups;  // results.json's groups.test ({"user_groups": ..., "item_groups": ...}), if any
};

inline double fake_mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

inline std::string g17(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Writes DIR/results.jsonl and DIR/cells/<id>/{results.json, per_user_test.tsv.gz}.
inline void write_fake_grid(const std::string& dir, const std::vector<FakeRun>& runs, const std::string& dataset = "toy") {
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  fs::create_directories(dir + "/cells");
  std::ofstream jsonl(dir + "/results.jsonl");
  for (const FakeRun& r : runs) {
    const std::string id = dataset + "-" + r.model + "-" + r.stack + "-s" + r.seed;
    nlohmann::json test = r.extra_test;
    test["recall@20"] = fake_mean(r.recall);
    test["ndcg@20"] = fake_mean(r.ndcg);
    nlohmann::json enhancers = r.stack == "none" ? nlohmann::json::array() : nlohmann::json::array({r.stack});
    nlohmann::json results = {{"status", r.status}, {"model", r.model}, {"enhancers", enhancers}, {"test", test}};
    if (!r.test_groups.is_null()) results["groups"] = {{"test", r.test_groups}};
    nlohmann::json record = results;
    record["grid"] = "fake", record["cell"] = id, record["folder"] = id;
    record["axes"] = {{"dataset", dataset}, {"model", r.model}, {"enhancers", r.stack}, {"seed", r.seed}};
    jsonl << record.dump() << "\n";
    fs::create_directories(dir + "/cells/" + id);
    std::ofstream(dir + "/cells/" + id + "/results.json") << results.dump(2);
    if (!r.per_user_file) continue;
    std::string tsv = "user\tn_train\tn_truth\trecall@20\tndcg@20\n";
    for (size_t k = 0; k < r.users.size(); ++k)
      tsv += std::to_string(r.users[k]) + "\t" + std::to_string(r.n_train[k]) + "\t1\t" + g17(r.recall[k]) + "\t" + g17(r.ndcg[k]) + "\n";
    gzFile f = gzopen((dir + "/cells/" + id + "/per_user_test.tsv.gz").c_str(), "wb");
    gzwrite(f, tsv.data(), static_cast<unsigned>(tsv.size()));
    gzclose(f);
  }
}

}  // namespace recgrid::test
