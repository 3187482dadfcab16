// The published checksums of the paper's datasets (facts about the authors' files: each file's
// SHA-256 as published in their repository, wangyu0627/IRLLRec, data/<dataset>/).
#include "data/fetch.hpp"

namespace recgrid::data {

const std::vector<PublishedFile>& published_files() {
  static const std::vector<PublishedFile> table = {
      {"amazon", "trn_mat.pkl", "535cc15f915858a64249e3a893cceac9efe8e6f1ce17c08879a3c099c510b309"},
      {"amazon", "val_mat.pkl", "90cd52a011f9b31081461a010e9bccb98d12a1dd7a7760085facbc7d1a2c46c3"},
      {"amazon", "tst_mat.pkl", "c279ce551d32536ed90d916212bc0b891ce4c189ea7cfa5e4051e0dbfc728d17"},
      {"yelp", "trn_mat.pkl", "2306f5b9de8f3dd3342744d937a45b04abd22ede422304a549fb324e12e5f6bd"},
      {"yelp", "val_mat.pkl", "33aaf3bd27bd25d7d3e8223700fbd2d5400feec217c9ce09c87785460bcb355b"},
      {"yelp", "tst_mat.pkl", "3007de4f5955223bf7752f59cadb3b069d92acb879987e7eee286f252772a564"},
      {"movie", "trn_mat.pkl", "717d292893f682b60e65f3be65d264e369570955e3c282d9764ec03e0bf0ada4"},
      {"movie", "val_mat.pkl", "8d7ae11adebf1038c33b8d2177462898f064fe83d2e86e5b57214e68c69fd9f3"},
      {"movie", "tst_mat.pkl", "16dd8fc78d04c97c15a640a11a567f4601e2163cd7c7a3943fe2c1c88cc9f30f"},
  };
  return table;
}

}  // namespace recgrid::data
