// Conformance of RecGrid's Recall@K and NDCG@K with independent restatements of the conventions
// docs/METRICS.md names, on the same random recommendation lists, every value to 1e-9:
//   - RecGrid's (the authors' code): Recall = hits / |T|; NDCG binary, ideal DCG over min(K, |T|).
//   - RecBole's Recall and NDCG, restated the way its metrics.py computes them: a hit vector over the
//     top max(K) positions, cumulative sums divided by |T| (Recall) and by the ideal DCG's cumulative
//     sum frozen after min(|T|, K) positions (NDCG).
//   - Elliot's nDCG, restated from its relevance model: gain 2^(rel - threshold + 1) - 1 for test items
//     with rel >= threshold (binary data: rel = threshold = 1, gain 1), discount ln 2 / ln(r + 2), ideal
//     DCG over the min(K, |T|) largest gains; Elliot's Recall = hits / |relevant|.
// On binary implicit feedback all three agree; the test also shows that two other conventions found in
// the literature (ideal DCG over K positions; Recall over min(K, |T|)) give different numbers here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "eval/metrics.hpp"

using namespace recgrid::eval;

namespace {

struct Case {
  std::vector<int64_t> ranked;  // distinct items, best first; may be shorter than max K
  std::vector<int64_t> truth;   // sorted, distinct, non-empty
};

std::vector<Case> random_cases(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Case> cases;
  for (int i = 0; i < n; ++i) {
    std::vector<int64_t> items(40);
    for (int64_t j = 0; j < 40; ++j) items[static_cast<size_t>(j)] = j;
    std::shuffle(items.begin(), items.end(), rng);
    Case c;
    const size_t len = i % 7 == 0 ? rng() % 20 : 20;  // some short lists
    c.ranked.assign(items.begin(), items.begin() + static_cast<long>(len));
    std::shuffle(items.begin(), items.end(), rng);
    const size_t n_truth = 1 + rng() % (i % 3 == 0 ? 30 : 6);  // often fewer than K, sometimes more
    std::set<int64_t> t(items.begin(), items.begin() + static_cast<long>(n_truth));
    // Plant hits: a few of the ranked items are ground truth.
    for (size_t j = 0; j < c.ranked.size(); ++j)
      if (rng() % 4 == 0) t.insert(c.ranked[j]);
    c.truth.assign(t.begin(), t.end());
    cases.push_back(c);
  }
  return cases;
}

// RecBole's way: positions 1..max K, pos_index[j] = 1 when item j is ground truth.
void recbole_style(const Case& c, int k, double& recall, double& ndcg) {
  const int kmax = 20;
  std::vector<double> pos(kmax, 0.0), cum_hits(kmax), idcg(kmax), dcg(kmax);
  const std::set<int64_t> truth(c.truth.begin(), c.truth.end());
  for (size_t j = 0; j < c.ranked.size() && j < static_cast<size_t>(kmax); ++j) pos[j] = truth.count(c.ranked[j]);
  const int pos_len = static_cast<int>(truth.size());
  double h = 0, d = 0, id = 0;
  for (int j = 0; j < kmax; ++j) {
    h += pos[static_cast<size_t>(j)];
    d += pos[static_cast<size_t>(j)] / std::log2(j + 2.0);
    id += 1.0 / std::log2(j + 2.0);
    cum_hits[static_cast<size_t>(j)] = h, dcg[static_cast<size_t>(j)] = d, idcg[static_cast<size_t>(j)] = id;
  }
  const int idcg_len = std::min(pos_len, kmax);  // the ideal DCG stops growing after |T| positions
  for (int j = idcg_len; j < kmax; ++j) idcg[static_cast<size_t>(j)] = idcg[static_cast<size_t>(idcg_len - 1)];
  recall = cum_hits[static_cast<size_t>(k - 1)] / pos_len;
  ndcg = dcg[static_cast<size_t>(k - 1)] / idcg[static_cast<size_t>(k - 1)];
}

// Elliot's way with binary test data: every test item rated 1, relevance threshold 1.
void elliot_style(const Case& c, int k, double& recall, double& ndcg) {
  const double threshold = 1, rating = 1;
  std::map<int64_t, double> gain;
  for (int64_t t : c.truth)
    if (rating >= threshold) gain[t] = std::pow(2.0, rating - threshold + 1) - 1;
  const auto discount = [](int r) { return std::log(2.0) / std::log(r + 2.0); };
  std::vector<double> gains;
  for (const auto& [item, g] : gain) gains.push_back(g);
  std::sort(gains.rbegin(), gains.rend());
  double idcg = 0, dcg = 0, hits = 0;
  for (int r = 0; r < std::min<int>(k, static_cast<int>(gains.size())); ++r) idcg += gains[static_cast<size_t>(r)] * discount(r);
  for (int r = 0; r < k && r < static_cast<int>(c.ranked.size()); ++r) {
    const auto it = gain.find(c.ranked[static_cast<size_t>(r)]);
    if (it == gain.end()) continue;
    dcg += it->second * discount(r);
    hits += 1;
  }
  recall = hits / static_cast<double>(gain.size());
  ndcg = dcg > 0 ? dcg / idcg : 0;
}

}  // namespace

TEST(MetricConventions, RecGridEqualsRecBoleAndElliotRestatementsOnBinaryData) {
  const std::vector<int> ks = {1, 3, 5, 10, 20};
  const auto cases = random_cases(300, 28);
  MetricSums sums(ks);
  std::vector<double> mean_recall(ks.size(), 0.0), mean_ndcg(ks.size(), 0.0);
  int checked = 0;
  for (const Case& c : cases) {
    std::vector<double> recall(ks.size()), ndcg(ks.size());
    user_recall_ndcg(ks, c.ranked.data(), static_cast<int>(c.ranked.size()), c.truth.data(),
                     c.truth.data() + c.truth.size(), recall.data(), ndcg.data());
    sums.add_user(c.ranked.data(), static_cast<int>(c.ranked.size()), c.truth.data(), c.truth.data() + c.truth.size());
    for (size_t q = 0; q < ks.size(); ++q) {
      double rb_recall, rb_ndcg, el_recall, el_ndcg;
      recbole_style(c, ks[q], rb_recall, rb_ndcg);
      elliot_style(c, ks[q], el_recall, el_ndcg);
      ASSERT_NEAR(recall[q], rb_recall, 1e-9) << "K " << ks[q];
      ASSERT_NEAR(ndcg[q], rb_ndcg, 1e-9) << "K " << ks[q];
      ASSERT_NEAR(recall[q], el_recall, 1e-9) << "K " << ks[q];
      ASSERT_NEAR(ndcg[q], el_ndcg, 1e-9) << "K " << ks[q];
      mean_recall[q] += rb_recall / static_cast<double>(cases.size());
      mean_ndcg[q] += rb_ndcg / static_cast<double>(cases.size());
      ++checked;
    }
  }
  EXPECT_EQ(checked, 300 * 5);
  const auto means = sums.means();
  for (size_t q = 0; q < ks.size(); ++q) {
    EXPECT_NEAR(means.at("recall@" + std::to_string(ks[q])), mean_recall[q], 1e-9);
    EXPECT_NEAR(means.at("ndcg@" + std::to_string(ks[q])), mean_ndcg[q], 1e-9);
  }
}

// The conventions RecGrid does not use are distinguishable on the same lists: the test above would
// catch a switch to either.
TEST(MetricConventions, OtherConventionsGiveOtherNumbers) {
  const std::vector<int> ks = {20};
  int ndcg_differs = 0, recall_differs = 0;
  for (const Case& c : random_cases(300, 28)) {
    double recall = 0, ndcg = 0;
    user_recall_ndcg(ks, c.ranked.data(), static_cast<int>(c.ranked.size()), c.truth.data(),
                     c.truth.data() + c.truth.size(), &recall, &ndcg);
    const std::set<int64_t> truth(c.truth.begin(), c.truth.end());
    double dcg = 0, idcg_k = 0, hits = 0;
    for (int j = 0; j < 20; ++j) {
      idcg_k += 1.0 / std::log2(j + 2.0);
      if (j < static_cast<int>(c.ranked.size()) && truth.count(c.ranked[static_cast<size_t>(j)]))
        dcg += 1.0 / std::log2(j + 2.0), hits += 1;
    }
    ndcg_differs += std::abs(dcg / idcg_k - ndcg) > 1e-6;  // ideal DCG over all K positions
    recall_differs += std::abs(hits / std::min<double>(20, truth.size()) - recall) > 1e-6;  // over min(K, |T|)
  }
  EXPECT_GT(ndcg_differs, 100);
  EXPECT_GT(recall_differs, 10);
}
