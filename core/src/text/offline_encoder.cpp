#include "text/offline_encoder.hpp"

#include <ATen/ATen.h>

#include <algorithm>

#include "text/randomized_svd.hpp"

namespace recgrid::text {

OfflineEncoder::OfflineEncoder(const std::vector<std::string>& fit_documents, const OfflineEncoderOptions& options)
    : options_(options), tfidf_(std::make_unique<TfidfModel>(fit_documents, options.tfidf)) {
  const at::Tensor a = tfidf_->transform(fit_documents);
  const int64_t rank = std::min({options.dim, a.size(0), a.size(1)});
  if (rank < options.dim && options.shrink_to_fit) options_.dim = rank;
  else if (rank < options.dim)
    throw std::invalid_argument("offline encoder: dim " + std::to_string(options.dim) + " exceeds what " +
                                std::to_string(a.size(0)) + " documents over a vocabulary of " +
                                std::to_string(a.size(1)) + " tokens can give (at most " + std::to_string(rank) + ")");
  const TruncatedSvd svd = randomized_svd(a, options_.dim, options.seed, 10, options.power_iterations);
  components_ = svd.components;
  singular_values_ = svd.singular_values;
}

at::Tensor OfflineEncoder::encode(const std::vector<std::string>& documents) const {
  return at::mm(tfidf_->transform(documents), components_).to(at::kFloat).contiguous();
}

nlohmann::json OfflineEncoder::describe() const {
  return {{"name", "tfidf-svd"},
          {"dim", options_.dim},
          {"min_df", options_.tfidf.min_df},
          {"max_features", options_.tfidf.max_features},
          {"vocabulary", tfidf_->vocabulary_size()},
          {"seed", options_.seed},
          {"power_iterations", options_.power_iterations},
          {"fitted_on", "item texts"}};
}

}  // namespace recgrid::text
