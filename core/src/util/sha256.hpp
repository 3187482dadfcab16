// SHA-256 (FIPS 180-4), streamed: the checksums of the paper's dataset files (`recgrid data get`).
// Written here rather than linked: the Debian packages RecGrid already needs ship no SHA-256 with
// headers (libcurl's TLS library comes without its development files), and adding libssl-dev for
// one hash is a new package on every machine; this is ~80 lines, checked against the FIPS 180-4
// test vectors (tests/test_fetch.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace recgrid {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  void update(const std::string& s) { update(s.data(), s.size()); }
  // The digest as 64 lowercase hex digits. Ends the hash: call once.
  std::string hex_digest();

 private:
  void compress(const unsigned char* block);
  std::array<uint32_t, 8> h_;
  std::array<unsigned char, 64> buf_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// The SHA-256 of a file's bytes, as 64 hex digits; throws naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace recgrid
