// Reading makedumpfile's flattened format (see flattened_format.h): a dump
// file sent down a pipe as records "these bytes go at this offset".
//
// Two uses:
//  - `-R`: replay a stream (standard input, a pipe, a file) into a seekable
//    output. Stops at the end marker and ignores whatever follows it (a raw
//    device holds junk after the stream).
//  - reading a flattened *file* as a dump without rebuilding it: the records
//    are indexed once (16 bytes read per record), then an InputFile adapter
//    maps offsets of the would-be rebuilt file to the stream's bytes and the
//    kdump (or ELF) reader runs on top of it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/error.h"
#include "base/io.h"
#include "base/physical_memory.h"

namespace vmc {

// True when the first bytes carry the flattened signature ("makedumpfile").
bool looks_like_flattened(std::span<const std::byte> head);

// A sequential source of bytes.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  virtual const std::string& name() const = 0;
  // Up to out.size() bytes; 0 only at the end of the stream.
  virtual Result<size_t> read(std::span<std::byte> out) = 0;
};

// Standard input (not closed). A read interrupted by a signal fails with
// kInterrupted once *cancel is non-zero (a signal number), so that -R waiting
// on a quiet pipe stops on SIGINT or SIGTERM; without cancel it is retried.
std::unique_ptr<ByteStream> stdin_stream(const std::atomic<int>* cancel = nullptr);
// A file descriptor read with read(2); closed when the stream is destroyed
// if owns_fd.
std::unique_ptr<ByteStream> fd_stream(int fd, std::string name, bool owns_fd,
                                      const std::atomic<int>* cancel = nullptr);
// An InputFile read front to back (it must outlive the stream).
std::unique_ptr<ByteStream> input_stream(io::InputFile& file);

struct RearrangeResult {
  uint64_t records = 0;       // data records replayed
  uint64_t data_bytes = 0;    // bytes written
  uint64_t file_size = 0;     // one past the highest byte written
  uint64_t stream_bytes = 0;  // bytes of the stream consumed, end marker included
};

// -R: replays every record of `in` into `out` (which must be seekable) up to
// the end marker. Fails with kBadInput, naming the stream offset, when the
// flattened header is missing, a record is truncated or malformed, or the
// stream ends without an end marker, or when out.finish() (which it calls)
// fails. When it fails after writing, the rebuilt file's kdump header (status) or ELF header
// (e_flags) is marked incomplete in place, as the writers mark a dump cut
// short, so that no reader takes the missing pages for excluded ones.
Result<RearrangeResult> rearrange_flattened(ByteStream& in, io::OutputFile& out);

// The file the stream would rebuild into, served from the stream's records
// (later records win where they overlap; bytes no record wrote read zero).
// Fails like rearrange_flattened() on a malformed stream.
Result<std::unique_ptr<io::InputFile>> flattened_file_view(std::unique_ptr<io::InputFile> stream);

// Opens a flattened file as a dump: the kdump-compressed or ELF file inside.
// metadata().format is "flattened".
Result<std::unique_ptr<PhysicalMemory>> open_flattened(std::unique_ptr<io::InputFile> stream);

}  // namespace vmc
