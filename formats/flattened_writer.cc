// makedumpfile's flattened format on a sequential stream: each positioned write
// becomes a record, so any writer that seeks (kdump, ELF) can send its file down
// a pipe unchanged, and `-R` on the other side replays it into a file.
#include <cstring>

#include "formats/dump_writer.h"
#include "formats/flattened_format.h"

namespace vmc {
namespace {

class FlattenedOutput final : public io::OutputFile {
 public:
  explicit FlattenedOutput(io::OutputFile& stream) : stream_(stream) {}
  const std::string& name() const override { return stream_.name(); }
  bool seekable() const override { return true; }
  uint64_t bytes_written() const override { return logical_end_; }

  Status write_at(uint64_t offset, std::span<const std::byte> data) override {
    // makedumpfile -R takes a record of size 0 for the end of the stream.
    if (data.empty()) return {};
    VMC_TRY(start());
    flat::FlatRecordHeader rh{};
    rh.offset = static_cast<int64_t>(offset);
    rh.buf_size = static_cast<int64_t>(data.size());
    VMC_TRY(emit(std::as_bytes(std::span(&rh, 1))));
    VMC_TRY(emit(data));
    logical_end_ = std::max(logical_end_, offset + data.size());
    return {};
  }

  Status write_gather(uint64_t offset, std::span<const std::span<const std::byte>> pieces) override {
    uint64_t size = 0;
    for (auto piece : pieces) size += piece.size();
    if (size == 0) return {};
    VMC_TRY(start());
    // One record for the whole run, sent as one gathered write.
    flat::FlatRecordHeader rh{};
    rh.offset = static_cast<int64_t>(offset);
    rh.buf_size = static_cast<int64_t>(size);
    record_.assign(1, std::as_bytes(std::span(&rh, 1)));
    record_.insert(record_.end(), pieces.begin(), pieces.end());
    VMC_TRY(stream_.write_gather(stream_pos_, record_));
    stream_pos_ += sizeof rh + size;
    logical_end_ = std::max(logical_end_, offset + size);
    return {};
  }

  Status finish() override {
    VMC_TRY(start());
    flat::FlatRecordHeader end{};
    end.offset = flat::kEndFlag;
    end.buf_size = flat::kEndFlag;
    VMC_TRY(emit(std::as_bytes(std::span(&end, 1))));
    return stream_.finish();
  }

 private:
  Status start() {
    if (started_) return {};
    started_ = true;
    std::vector<std::byte> header(flat::kFlatHeaderSize);
    flat::FlatHeader fh{};
    std::memcpy(fh.signature, flat::kSignature, sizeof(flat::kSignature) - 1);
    fh.type = flat::kTypeFlat;
    fh.version = flat::kVersionFlat;
    std::memcpy(header.data(), &fh, sizeof fh);
    return emit(header);
  }

  Status emit(std::span<const std::byte> bytes) {
    if (bytes.empty()) return {};
    VMC_TRY(stream_.write_at(stream_pos_, bytes));
    stream_pos_ += bytes.size();
    return {};
  }

  io::OutputFile& stream_;
  bool started_ = false;
  uint64_t stream_pos_ = 0, logical_end_ = 0;
  std::vector<std::span<const std::byte>> record_;
};

}  // namespace

std::unique_ptr<io::OutputFile> make_flattened_output(io::OutputFile& stream) {
  return std::make_unique<FlattenedOutput>(stream);
}

}  // namespace vmc
