// The built-in offline text encoder: TF-IDF (tfidf.hpp) followed by a truncated randomised SVD
// (randomized_svd.hpp), fitted on the item texts. No server, no download; deterministic for a seed.
//
//   fit:    A = tfidf(item texts) [items x vocabulary],  A ≈ U Σ Vᵀ (rank `dim`)
//   encode: tfidf(documents) · V   [documents x dim]  (items: their rows of U Σ; users: their
//           training-item documents projected on the same basis)
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/tfidf.hpp"

namespace recgrid::text {

struct OfflineEncoderOptions {
  int64_t dim = 256;
  // When the text cannot give `dim` components (few documents or a small vocabulary): false = an
  // error (a width asked for explicitly), true = the largest width it can give (the default width).
  bool shrink_to_fit = false;
  TfidfOptions tfidf;
  uint64_t seed = 2023;
  int64_t power_iterations = 4;
};

class OfflineEncoder {
 public:
  OfflineEncoder(const std::vector<std::string>& fit_documents, const OfflineEncoderOptions& options);
  at::Tensor encode(const std::vector<std::string>& documents) const;  // float32 [n x dim]
  // The settings, for provenance sidecars.
  nlohmann::json describe() const;
  const at::Tensor& singular_values() const { return singular_values_; }

 private:
  OfflineEncoderOptions options_;
  std::unique_ptr<TfidfModel> tfidf_;
  at::Tensor components_, singular_values_;
};

}  // namespace recgrid::text
