// Flattened-format reader (see flattened_reader.h). One record parser serves
// both uses: replaying a stream (-R) and indexing a flattened file so that the
// dump inside can be read in place.
#include "formats/flattened_reader.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <map>

#include "base/checked_reader.h"
#include "formats/elf_core_reader.h"
#include "formats/elf_format.h"
#include "formats/flattened_format.h"
#include "formats/kdump_format.h"
#include "formats/kdump_reader.h"

namespace vmc {
namespace {

constexpr size_t kCopyBuffer = size_t{1} << 20;
// Reading a flattened file in place keeps an index entry (about 64 bytes) per
// record; past this many (64 MiB of index) the stream is refused, naming -R,
// which rebuilds it with bounded memory, rather than let the index grow with
// the record count instead of the dump's size.
constexpr uint64_t kMaxIndexedExtents = uint64_t{1} << 20;

// ---- streams -------------------------------------------------------------

class FdStream final : public ByteStream {
 public:
  FdStream(int fd, std::string name, bool owns, const std::atomic<int>* cancel)
      : fd_(fd), name_(std::move(name)), owns_(owns), cancel_(cancel) {}
  ~FdStream() override {
    if (owns_) ::close(fd_);
  }
  FdStream(const FdStream&) = delete;
  FdStream& operator=(const FdStream&) = delete;
  const std::string& name() const override { return name_; }
  Result<size_t> read(std::span<std::byte> out) override {
    for (;;) {
      ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return errno_error("cannot read " + name_);
      if (cancel_ != nullptr && cancel_->load() != 0) {
        return Error(ErrorKind::kInterrupted, "interrupted by signal " + std::to_string(cancel_->load()) +
                                                  " while reading " + name_);
      }
    }
  }

 private:
  int fd_;
  std::string name_;
  bool owns_;
  const std::atomic<int>* cancel_;
};

class InputStream final : public ByteStream {
 public:
  explicit InputStream(io::InputFile& file) : file_(file) {}
  const std::string& name() const override { return file_.name(); }
  Result<size_t> read(std::span<std::byte> out) override {
    uint64_t left = file_.size() - std::min(pos_, file_.size());
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, out.size()));
    if (n == 0) return size_t{0};
    VMC_TRY(file_.read_at(pos_, out.first(n)));
    pos_ += n;
    return n;
  }

 private:
  io::InputFile& file_;
  uint64_t pos_ = 0;
};

// Reads exactly out.size() bytes; returns how many arrived before the end.
Result<size_t> read_full(ByteStream& in, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    auto n = in.read(out.subspan(done));
    if (!n) return std::move(n).error();
    if (*n == 0) break;
    done += *n;
  }
  return done;
}

// ---- records ---------------------------------------------------------------

Status check_flat_header(std::span<const std::byte> head, size_t got, const std::string& name) {
  if (got < sizeof(flat::FlatHeader) || !looks_like_flattened(head)) {
    return Error(ErrorKind::kBadInput, name +
                                           " is not in the flattened format (no \"makedumpfile\" "
                                           "header; was it written with -F?)");
  }
  auto fh = load<flat::FlatHeader>(head.data());
  if (fh.type != flat::kTypeFlat) {
    return bad_input_at(name, 16,
                        "flattened header type " + std::to_string(fh.type.get()) + " is not " +
                            std::to_string(flat::kTypeFlat));
  }
  if (got < flat::kFlatHeaderSize) {
    return bad_input_at(name, got,
                        "the flattened header is truncated (" + std::to_string(got) + " of " +
                            std::to_string(flat::kFlatHeaderSize) + " bytes)");
  }
  return {};
}

enum class RecordKind { kData, kEnd };

// Validates one record header found at stream offset `at`.
Result<RecordKind> check_record(const flat::FlatRecordHeader& rh, uint64_t at,
                                const std::string& name) {
  int64_t off = rh.offset, size = rh.buf_size;
  if (off == flat::kEndFlag && size == flat::kEndFlag) return RecordKind::kEnd;
  if (off < 0 || size < 0 ||
      !fits_within(static_cast<uint64_t>(off), static_cast<uint64_t>(size), uint64_t{1} << 62)) {
    return bad_input_at(name, at,
                        "malformed flattened record header (offset " + std::to_string(off) +
                            ", size " + std::to_string(size) + ")");
  }
  return RecordKind::kData;
}

Error missing_end(const std::string& name, uint64_t at, uint64_t records) {
  return bad_input_at(name, at,
                      "the flattened stream ends after " + std::to_string(records) +
                          " records without its end marker (truncated?)");
}

Error truncated_record(const std::string& name, uint64_t at, uint64_t want, uint64_t got) {
  return bad_input_at(name, at,
                      "flattened record is truncated: its header says " + std::to_string(want) +
                          " bytes, the stream has " + std::to_string(got));
}

// ---- the index of a flattened file -----------------------------------------

struct Extent {
  uint64_t end;         // exclusive, in the rebuilt file
  uint64_t stream_off;  // where the extent's first byte is in the stream
};

// Records the later write [start, end) over whatever earlier ones covered.
void overwrite(std::map<uint64_t, Extent>& map, uint64_t start, uint64_t end, uint64_t stream_off) {
  auto it = map.lower_bound(start);
  if (it != map.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > start) {
      Extent tail = prev->second;
      prev->second.end = start;
      if (tail.end > end) {
        map.emplace(end, Extent{tail.end, tail.stream_off + (end - prev->first)});
      }
    }
  }
  it = map.lower_bound(start);
  while (it != map.end() && it->first < end) {
    if (it->second.end > end) {
      Extent rest{it->second.end, it->second.stream_off + (end - it->first)};
      map.erase(it);
      map.emplace(end, rest);
      break;
    }
    it = map.erase(it);
  }
  map.emplace(start, Extent{end, stream_off});
}

class FlattenedInput final : public io::InputFile {
 public:
  FlattenedInput(std::unique_ptr<io::InputFile> stream, std::map<uint64_t, Extent> map)
      : stream_(std::move(stream)), map_(std::move(map)), name_(stream_->name()) {
    size_ = map_.empty() ? 0 : std::prev(map_.end())->second.end;
  }
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }

  Status read_at(uint64_t offset, std::span<std::byte> out) override {
    if (out.empty()) return {};
    if (!fits_within(offset, out.size(), size_)) {
      return bad_input_at(name_, offset,
                          "reading " + std::to_string(out.size()) +
                              " bytes beyond the end of the rebuilt file (" +
                              std::to_string(size_) + " bytes)");
    }
    std::memset(out.data(), 0, out.size());
    uint64_t end = offset + out.size();
    auto it = map_.upper_bound(offset);
    if (it != map_.begin()) --it;
    for (; it != map_.end() && it->first < end; ++it) {
      uint64_t a = std::max(offset, it->first), b = std::min(end, it->second.end);
      if (a >= b) continue;
      auto dst = out.subspan(static_cast<size_t>(a - offset), static_cast<size_t>(b - a));
      uint64_t src = it->second.stream_off + (a - it->first);
      if (auto s = stream_->read_at(src, dst); !s) {
        return std::move(s).error().add_context("rebuilt-file offset " + hex(a) +
                                                " of the flattened " + name_);
      }
    }
    return {};
  }

  Result<io::ByteView> view(uint64_t offset, uint64_t length) override {
    auto it = map_.upper_bound(offset);
    if (it != map_.begin() && length != 0) {
      --it;
      if (offset >= it->first && offset + length <= it->second.end) {
        return stream_->view(it->second.stream_off + (offset - it->first), length);
      }
    }
    return InputFile::view(offset, length);
  }
  bool prefers_read() const override { return stream_->prefers_read(); }

 private:
  std::unique_ptr<io::InputFile> stream_;
  std::map<uint64_t, Extent> map_;
  std::string name_;
  uint64_t size_ = 0;
};

Result<std::map<uint64_t, Extent>> index_records(io::InputFile& stream) {
  std::vector<std::byte> head(flat::kFlatHeaderSize);
  size_t got = static_cast<size_t>(std::min<uint64_t>(stream.size(), head.size()));
  if (got != 0) VMC_TRY(stream.read_at(0, std::span(head).first(got)));
  VMC_TRY(check_flat_header(head, got, stream.name()));
  std::map<uint64_t, Extent> map;
  uint64_t pos = flat::kFlatHeaderSize, records = 0;
  for (;;) {
    if (stream.size() - pos < sizeof(flat::FlatRecordHeader)) {
      return missing_end(stream.name(), pos, records);
    }
    flat::FlatRecordHeader rh;
    VMC_TRY(stream.read_at(pos, std::as_writable_bytes(std::span(&rh, 1))));
    auto kind = check_record(rh, pos, stream.name());
    if (!kind) return std::move(kind).error();
    if (*kind == RecordKind::kEnd) break;
    uint64_t size = static_cast<uint64_t>(rh.buf_size.get());
    uint64_t data = pos + sizeof rh;
    if (stream.size() - data < size) {
      return truncated_record(stream.name(), pos, size, stream.size() - data);
    }
    uint64_t off = static_cast<uint64_t>(rh.offset.get());
    if (size != 0) overwrite(map, off, off + size, data);
    if (map.size() > kMaxIndexedExtents) {
      return bad_input_at(stream.name(), pos,
                          "the flattened stream has more than " + std::to_string(kMaxIndexedExtents) +
                              " separate records, more than this reader indexes in memory; rebuild it "
                              "with -R first");
    }
    pos = data + size;
    ++records;
  }
  return map;
}

}  // namespace

bool looks_like_flattened(std::span<const std::byte> head) {
  size_t n = sizeof(flat::kSignature);  // "makedumpfile" and its NUL
  return head.size() >= n && std::memcmp(head.data(), flat::kSignature, n) == 0;
}

std::unique_ptr<ByteStream> stdin_stream(const std::atomic<int>* cancel) {
  return std::make_unique<FdStream>(STDIN_FILENO, "standard input", false, cancel);
}

std::unique_ptr<ByteStream> fd_stream(int fd, std::string name, bool owns_fd,
                                      const std::atomic<int>* cancel) {
  return std::make_unique<FdStream>(fd, std::move(name), owns_fd, cancel);
}

std::unique_ptr<ByteStream> input_stream(io::InputFile& file) {
  return std::make_unique<InputStream>(file);
}

namespace {

// The head of the rebuilt file as the stream last wrote it: where the dump's
// header is, so that a replay cut short can mark that header incomplete.
class HeadShadow {
 public:
  void record(uint64_t offset, std::span<const std::byte> data) {
    if (offset >= kSize) return;
    size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), kSize - offset));
    std::memcpy(bytes_.data() + offset, data.data(), n);
    if (offset <= filled_) filled_ = std::max<uint64_t>(filled_, offset + n);
  }

  // Sets the incomplete flag the readers test, if the header was written.
  Status mark_incomplete(io::OutputFile& out) {
    std::span<const std::byte> head(bytes_.data(), static_cast<size_t>(filled_));
    if (looks_like_kdump(head) && filled_ >= sizeof(kdump::DiskDumpHeader)) {
      return set_flag(out, offsetof(kdump::DiskDumpHeader, status), kdump::kIncomplete);
    }
    constexpr auto kElfClass64 = std::byte{2};  // e_ident[EI_CLASS]: the layout of elf::Ehdr
    if (looks_like_elf(head) && filled_ >= sizeof(elf::Ehdr) && head[4] == kElfClass64) {
      return set_flag(out, offsetof(elf::Ehdr, e_flags), elf::kDumpElfIncomplete);
    }
    return {};
  }

 private:
  static constexpr size_t kSize = 4096;
  Status set_flag(io::OutputFile& out, size_t at, uint32_t flag) {
    Le32 field = load<Le32>(bytes_.data() + at);
    field = field.get() | flag;
    std::memcpy(bytes_.data() + at, &field, sizeof field);
    return out.write_at(at, std::span(bytes_).subspan(at, sizeof field));
  }
  std::array<std::byte, kSize> bytes_{};
  uint64_t filled_ = 0;  // [0, filled_) holds what the stream wrote there
};

Status replay_records(ByteStream& in, io::OutputFile& out, RearrangeResult& r, HeadShadow& head) {
  std::vector<std::byte> buf(std::max(kCopyBuffer, flat::kFlatHeaderSize));
  auto got = read_full(in, std::span(buf).first(flat::kFlatHeaderSize));
  if (!got) return std::move(got).error();
  VMC_TRY(check_flat_header(buf, *got, in.name()));
  r.stream_bytes = flat::kFlatHeaderSize;
  for (;;) {
    flat::FlatRecordHeader rh;
    auto h = read_full(in, std::as_writable_bytes(std::span(&rh, 1)));
    if (!h) return std::move(h).error();
    if (*h < sizeof rh) return missing_end(in.name(), r.stream_bytes, r.records);
    auto kind = check_record(rh, r.stream_bytes, in.name());
    if (!kind) return std::move(kind).error();
    uint64_t at = r.stream_bytes;
    r.stream_bytes += sizeof rh;
    if (*kind == RecordKind::kEnd) return {};  // anything after the marker is not ours
    uint64_t size = static_cast<uint64_t>(rh.buf_size.get());
    uint64_t offset = static_cast<uint64_t>(rh.offset.get());
    for (uint64_t done = 0; done < size;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(size - done, buf.size()));
      auto g = read_full(in, std::span(buf).first(n));
      if (!g) return std::move(g).error();
      if (*g < n) return truncated_record(in.name(), at, size, done + *g);
      VMC_TRY_CTX(out.write_at(offset + done, std::span(buf).first(n)),
                  "replaying the flattened record at stream offset " + hex(at));
      head.record(offset + done, std::span(buf).first(n));
      done += n;
      r.stream_bytes += n;
    }
    ++r.records;
    r.data_bytes += size;
    r.file_size = std::max(r.file_size, offset + size);
  }
}

}  // namespace

Result<RearrangeResult> rearrange_flattened(ByteStream& in, io::OutputFile& out) {
  if (!out.seekable()) {
    return Error(ErrorKind::kInvalidArgument,
                 "cannot rebuild a flattened dump into " + out.name() + ": it is not seekable");
  }
  RearrangeResult r;
  HeadShadow head;
  Status replayed = replay_records(in, out, r, head);
  // A full disk may show only here (delayed allocation, NFS), after the
  // stream's last records said complete.
  if (replayed) replayed = out.finish();
  if (replayed) return r;
  // The header may say complete (a stream may carry the final header first):
  // a file that lacks records must not pass for whole.
  Status marked = head.mark_incomplete(out);
  if (marked) marked = out.finish();  // the mark on disk, as far as the disk allows
  if (!marked) {
    return Error(replayed.error().kind(), replayed.error().describe() +
                                              "; the dumpfile could not be marked incomplete: " +
                                              marked.error().describe());
  }
  return std::move(replayed).error();
}

Result<std::unique_ptr<io::InputFile>> flattened_file_view(std::unique_ptr<io::InputFile> stream) {
  auto map = index_records(*stream);
  if (!map) return std::move(map).error();
  return std::unique_ptr<io::InputFile>(
      std::make_unique<FlattenedInput>(std::move(stream), std::move(*map)));
}

Result<std::unique_ptr<PhysicalMemory>> open_flattened(std::unique_ptr<io::InputFile> stream) {
  auto file = flattened_file_view(std::move(stream));
  if (!file) return std::move(file).error();
  std::vector<std::byte> head(static_cast<size_t>(std::min<uint64_t>((*file)->size(), 8)));
  if (!head.empty()) VMC_TRY((*file)->read_at(0, head));
  if (looks_like_kdump(head)) return open_kdump(std::move(*file), "flattened");
  if (looks_like_elf(head)) return open_elf_core(std::move(*file), "flattened");
  return Error(ErrorKind::kBadInput, (*file)->name() +
                                         ": the flattened stream holds neither a "
                                         "kdump-compressed nor an ELF dump");
}

}  // namespace vmc
