#include "util/gzip_writer.hpp"

#include <zlib.h>

#include <stdexcept>
#include <vector>

namespace recgrid {

struct GzipAtomicWriter::Stream {
  z_stream z{};
  std::vector<unsigned char> out = std::vector<unsigned char>(1 << 16);
};

GzipAtomicWriter::GzipAtomicWriter(std::string path, int level) : file_(std::move(path)), stream_(std::make_unique<Stream>()) {
  // windowBits 15 + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&stream_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error(file_.path() + ": cannot start gzip compression (zlib deflateInit2 failed)");
}

GzipAtomicWriter::~GzipAtomicWriter() { deflateEnd(&stream_->z); }

void GzipAtomicWriter::deflate_into_file(const char* data, size_t size, int flush) {
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(size);
  do {
    z.next_out = stream_->out.data();
    z.avail_out = static_cast<uInt>(stream_->out.size());
    const int rc = deflate(&z, flush);
    if (rc == Z_STREAM_ERROR) throw std::runtime_error(file_.path() + ": gzip compression failed (zlib deflate)");
    file_.write(stream_->out.data(), stream_->out.size() - z.avail_out);
  } while (z.avail_out == 0);
}

void GzipAtomicWriter::write(const std::string& text) {
  for (size_t at = 0; at < text.size(); at += 1u << 30)  // avail_in is 32 bits
    deflate_into_file(text.data() + at, std::min<size_t>(text.size() - at, 1u << 30), Z_NO_FLUSH);
}

void GzipAtomicWriter::commit() {
  if (!finished_) deflate_into_file(nullptr, 0, Z_FINISH);
  finished_ = true;
  file_.commit();
}

}  // namespace recgrid
