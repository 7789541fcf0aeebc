// The flattened reader: -R replay (from memory, a file and a pipe; junk after
// the end marker; missing marker; truncated records) and reading a flattened
// file as a dump in place. Also open_dump()'s format probing.
#include "formats/flattened_reader.h"
#include "formats/open_dump.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "formats/flattened_format.h"
#include "formats/kdump_format.h"
#include "tests/formats/reader_test_util.h"

namespace vmc::testing {
namespace {
using io::MemoryOutput;

DumpBuilder machine() {
  DumpBuilder b;
  b.add_ram(0, 4 << 20, 0xffff888000000000ull).add_ram(8 << 20, 1 << 20, 0xffff888000800000ull);
  b.set_vmcoreinfo("OSRELEASE=6.12.0-test\nPAGESIZE=4096\n").set_prstatus_notes(2);
  for (uint64_t pfn = 0; pfn < 0x900; pfn += 3) {
    if (pfn < 0x400 || pfn >= 0x800) b.fill_page(pfn, PageFill::kText, 11);
  }
  return b;
}

std::vector<std::byte> kdump_file(const DumpBuilder& b) {
  KdumpBuildOptions o;
  o.codec_flag = kdump::kCompressedZlib;
  return build_kdump(b, o);
}

Result<RearrangeResult> rearrange(const std::vector<std::byte>& stream, MemoryOutput& out) {
  auto in = io::memory_input("stream.flat", stream);
  auto s = input_stream(*in);
  return rearrange_flattened(*s, out);
}

void append(std::vector<std::byte>& v, std::span<const std::byte> more) {
  v.insert(v.end(), more.begin(), more.end());
}

TEST(Flattened, RearrangeRebuildsTheFileExactly) {
  auto file = kdump_file(machine());
  for (size_t record : {size_t{4096}, size_t{1000}, size_t{1} << 20}) {
    MemoryOutput out("rebuilt");
    auto r = rearrange(flatten(file, record), out);
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(out.contents(), file) << record;
    EXPECT_EQ(r->file_size, file.size());
    EXPECT_EQ(r->data_bytes, file.size());
  }
}

TEST(Flattened, RearrangeReplaysRecordsInStreamOrder) {
  auto file = kdump_file(machine());
  MemoryOutput out("rebuilt");
  ASSERT_TRUE(rearrange(flatten_shuffled(file, 3000, 7), out).ok());
  EXPECT_EQ(out.contents(), file);
}

TEST(Flattened, JunkAfterTheEndMarkerIsIgnored) {
  auto file = kdump_file(machine());
  auto stream = flatten(file, 65536);
  size_t stream_size = stream.size();
  append(stream, random_bytes(100000, 3));  // what a raw device holds after the stream
  MemoryOutput out("rebuilt");
  auto r = rearrange(stream, out);
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(out.contents(), file);
  EXPECT_EQ(r->stream_bytes, stream_size);
}

TEST(Flattened, MissingEndMarkerIsAnError) {
  auto stream = flatten(kdump_file(machine()), 65536);
  stream.resize(stream.size() - sizeof(flat::FlatRecordHeader));
  MemoryOutput out("rebuilt");
  auto r = rearrange(stream, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kBadInput);
  EXPECT_NE(r.error().describe().find("without its end marker"), std::string::npos) << describe(r);
  // The index used for reading in place says the same.
  auto v = flattened_file_view(io::memory_input("x.flat", stream));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().describe().find("without its end marker"), std::string::npos) << describe(v);
}

TEST(Flattened, TruncatedRecordIsAnError) {
  auto stream = flatten(kdump_file(machine()), 65536);
  stream.resize(stream.size() - sizeof(flat::FlatRecordHeader) - 1000);
  MemoryOutput out("rebuilt");
  auto r = rearrange(stream, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("record is truncated"), std::string::npos) << describe(r);
  auto v = flattened_file_view(io::memory_input("x.flat", stream));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().describe().find("record is truncated"), std::string::npos) << describe(v);
}

// The in-place index costs about 64 bytes per record; a stream of more than
// 2^20 records is refused, naming -R, instead of growing without bound.
TEST(Flattened, MoreRecordsThanTheIndexCapAreRefused) {
  auto stream = flatten(random_bytes((size_t{1} << 20) + 2, 5), 1);
  auto v = flattened_file_view(io::memory_input("many.flat", stream));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().describe().find("more than 1048576 separate records"), std::string::npos) << describe(v);
  EXPECT_NE(v.error().describe().find("-R"), std::string::npos) << describe(v);
}

TEST(Flattened, NoFlatHeaderIsAnError) {
  auto file = kdump_file(machine());
  MemoryOutput out("rebuilt");
  auto r = rearrange(file, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("not in the flattened format"), std::string::npos)
      << describe(r);
  auto empty = rearrange({}, out);
  ASSERT_FALSE(empty.ok());
  auto stream = flatten(file, 4096);
  stream.resize(2000);  // a header cut short
  auto cut = rearrange(stream, out);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().describe().find("header is truncated"), std::string::npos) << describe(cut);
}

TEST(Flattened, MalformedRecordHeaderIsAnError) {
  auto stream = flatten(kdump_file(machine()), 65536);
  flat::FlatRecordHeader rh{};
  rh.offset = -5;
  rh.buf_size = 10;
  std::memcpy(stream.data() + flat::kFlatHeaderSize, &rh, sizeof rh);
  MemoryOutput out("rebuilt");
  auto r = rearrange(stream, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("malformed flattened record header"), std::string::npos);
  EXPECT_NE(r.error().describe().find("offset 0x1000"), std::string::npos) << describe(r);
}

// Issue 18 item 11: a stream whose header record says complete, replayed
// onto a disk that fills up (or fails at the final sync), left a file marked
// complete whose missing pages read as excluded.
class FailingSync final : public MemoryOutput {
 public:
  FailingSync() : MemoryOutput("sync-fails") {}
  Status finish() override {
    if (failures_left_ == 0) return {};
    --failures_left_;
    return errno_error("cannot sync sync-fails (test)", ENOSPC);
  }

 private:
  int failures_left_ = 1;
};

uint32_t kdump_status_of(const std::vector<std::byte>& file) {
  return load<kdump::DiskDumpHeader>(file.data()).status;
}

TEST(Flattened, ReplayCutShortByAFullDiskIsMarkedIncomplete) {
  auto file = kdump_file(machine());
  ASSERT_EQ(kdump_status_of(file) & kdump::kIncomplete, 0u);
  auto memory = std::make_unique<MemoryOutput>("full");
  MemoryOutput& written = *memory;
  io::FaultPlan full;
  full.write_enospc_at = 64 << 10;
  auto out = io::with_faults(std::unique_ptr<io::OutputFile>(std::move(memory)), full);
  auto in = io::memory_input("stream.flat", flatten(file, 4096));
  auto r = rearrange_flattened(*input_stream(*in), *out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kNoSpace);
  EXPECT_NE(kdump_status_of(written.contents()) & kdump::kIncomplete, 0u);
}

TEST(Flattened, ReplayWhoseFinalSyncFailsIsMarkedIncomplete) {
  auto file = kdump_file(machine());
  FailingSync out;
  auto in = io::memory_input("stream.flat", flatten(file, 65536));
  auto r = rearrange_flattened(*input_stream(*in), out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(kdump_status_of(out.contents()) & kdump::kIncomplete, 0u);
}

TEST(Flattened, RearrangeRefusesAPipeAsOutput) {
  MemoryOutput out("pipe", /*seekable=*/false);
  auto r = rearrange(flatten(kdump_file(machine()), 4096), out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument);
}

TEST(Flattened, RearrangeFromAPipe) {
  auto file = kdump_file(machine());
  auto stream = flatten_shuffled(file, 5000, 9);
  append(stream, random_bytes(5000, 1));
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread writer([&] {
    size_t done = 0;
    while (done < stream.size()) {
      ssize_t n =
          ::write(fds[1], stream.data() + done, std::min<size_t>(7777, stream.size() - done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  auto in = fd_stream(fds[0], "pipe", true);
  MemoryOutput out("rebuilt");
  auto r = rearrange_flattened(*in, out);
  writer.join();
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(out.contents(), file);
}

TEST(Flattened, LaterRecordsOverwriteEarlierOnes) {
  // Header first as "incomplete", then everything, then the header again as
  // the writer's finish() does: reading in place must see the last version.
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.incomplete = true;
  auto early = build_kdump(b, o);
  auto file = kdump_file(b);
  auto stream = flatten(std::span(early).first(4096), 4096);
  stream.resize(stream.size() - sizeof(flat::FlatRecordHeader));  // drop the end marker
  auto rest = flatten(file, 3333);
  append(stream, std::span(rest).subspan(flat::kFlatHeaderSize));
  // A record overwriting the middle of an earlier one with the same bytes.
  auto v = flattened_file_view(io::memory_input("x.flat", stream));
  ASSERT_TRUE(v.ok()) << describe(v);
  std::vector<std::byte> back(file.size());
  ASSERT_TRUE((*v)->read_at(0, back).ok());
  EXPECT_EQ(back, file);
  auto m = open_flattened(io::memory_input("x.flat", stream));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_FALSE((*m)->metadata().incomplete);
}

TEST(Flattened, OverlappingRecordsInsideOneExtent) {
  std::vector<std::byte> file = random_bytes(10000, 5);
  auto stream = flatten(file, 10000);
  stream.resize(stream.size() - sizeof(flat::FlatRecordHeader));
  auto patch = random_bytes(100, 6);
  flat::FlatRecordHeader rh{};
  rh.offset = 5000;
  rh.buf_size = 100;
  append(stream, std::as_bytes(std::span(&rh, 1)));
  append(stream, patch);
  flat::FlatRecordHeader end{};
  end.offset = -1;
  end.buf_size = -1;
  append(stream, std::as_bytes(std::span(&end, 1)));
  std::copy(patch.begin(), patch.end(), file.begin() + 5000);
  auto v = flattened_file_view(io::memory_input("x.flat", stream));
  ASSERT_TRUE(v.ok()) << describe(v);
  std::vector<std::byte> back(file.size());
  ASSERT_TRUE((*v)->read_at(0, back).ok());
  EXPECT_EQ(back, file);
  auto part = (*v)->view(4990, 200);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(std::memcmp(part->data(), file.data() + 4990, 200), 0);
}

TEST(Flattened, FlattenedKdumpReadsAsADump) {
  DumpBuilder b = machine();
  auto stream = flatten_shuffled(kdump_file(b), 4096 * 3, 4);
  append(stream, random_bytes(3000, 8));
  auto m = open_flattened(io::memory_input("x.flat", stream));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->metadata().format, "flattened");
  EXPECT_EQ((*m)->metadata().vmcoreinfo, b.vmcoreinfo());
  EXPECT_EQ((*m)->metadata().nr_cpus, 2);
  EXPECT_EQ(expect_pages_match(**m, b), 0x500u);
}

TEST(Flattened, FlattenedElfReadsAsADump) {
  DumpBuilder b = machine();
  auto m = open_flattened(io::memory_input("x.flat", flatten(b.build_elf(), 65536)));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->metadata().format, "flattened");
  EXPECT_EQ((*m)->metadata().segments[0].vaddr, 0xffff888000000000ull);
  EXPECT_EQ(expect_pages_match(**m, b), 0x500u);
}

// ---- open_dump -----------------------------------------------------------------

std::string write_temp(const std::string& name, std::span<const std::byte> bytes) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

TEST(OpenDump, ProbesEachFormat) {
  DumpBuilder b = machine();
  struct Case {
    std::string name;
    std::vector<std::byte> bytes;
    std::string format;
  } cases[] = {
      {"d.elf", b.build_elf(), "elf"},
      {"d.kdump", kdump_file(b), "kdump"},
      {"d.flat", flatten(kdump_file(b), 8192), "flattened"},
  };
  for (const auto& c : cases) {
    std::string path = write_temp(c.name, c.bytes);
    for (bool use_mmap : {true, false}) {
      OpenDumpOptions o;
      o.input.use_mmap = use_mmap;
      auto m = open_dump(path, o);
      ASSERT_TRUE(m.ok()) << c.name << ": " << describe(m);
      EXPECT_EQ((*m)->metadata().format, c.format);
      EXPECT_EQ(expect_pages_match(**m, b), 0x500u) << c.name;
    }
    ::unlink(path.c_str());
  }
}

TEST(OpenDump, UnknownFormatNamesTheFileAndItsFirstBytes) {
  std::string text = "hello, this is not a dump\n";
  std::string path = write_temp("not-a-dump", std::as_bytes(std::span(text)));
  auto m = open_dump(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().kind(), ErrorKind::kBadInput);
  std::string d = m.error().describe();
  EXPECT_NE(d.find(path), std::string::npos) << d;
  EXPECT_NE(d.find("68 65 6c 6c"), std::string::npos) << d;
  EXPECT_NE(d.find("\"hello, this is n\""), std::string::npos) << d;
  ::unlink(path.c_str());
  auto missing = open_dump("/nonexistent/vmcore");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kIo);
}

TEST(OpenDump, CorruptDumpSaysWhichReaderFailed) {
  auto f = kdump_file(machine());
  f.resize(5000);
  std::string path = write_temp("cut.kdump", f);
  auto m = open_dump(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().describe().find("as a kdump-compressed dump"), std::string::npos)
      << m.error().describe();
  ::unlink(path.c_str());
}

TEST(OpenDump, FaultPlanReachesTheReader) {
  DumpBuilder b = machine();
  auto elf = b.build_elf();
  std::string path = write_temp("faulty.elf", elf);
  uint64_t data = phdr_of(elf, 1).p_offset;
  OpenDumpOptions o;
  o.faults.read_eio.push_back({data + 4096 * 5, data + 4096 * 5 + 1});
  auto m = open_dump(path, o);
  ASSERT_TRUE(m.ok()) << describe(m);
  auto v = (*m)->pages(5, 1);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().describe().find("pfn 0x5"), std::string::npos) << describe(v);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace vmc::testing
