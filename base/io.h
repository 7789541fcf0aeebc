// The I/O seam. Everything that touches a file descriptor goes through these
// two interfaces, so that tests can put a fault injector between vmcollect and
// the disk (EIO on a range, short reads, ENOSPC at an offset) and check that a
// dump still comes out usable and marked incomplete.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"

namespace vmc::io {

// Read-only bytes that stay valid while the view lives: either a private mmap of
// a window of the input, or a heap copy (read() path, faulty inputs, decoded
// pages). Cheap to move; sharing keeps the mapping alive.
class ByteView {
 public:
  ByteView() = default;
  ByteView(std::shared_ptr<const void> owner, std::span<const std::byte> bytes)
      : owner_(std::move(owner)), bytes_(bytes) {}
  static ByteView copy_of(std::vector<std::byte> bytes);

  std::span<const std::byte> bytes() const { return bytes_; }
  const std::byte* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }

 private:
  std::shared_ptr<const void> owner_;
  std::span<const std::byte> bytes_;
};

// A random-access input: a dump file, /proc/vmcore, /dev/oldmem.
class InputFile {
 public:
  virtual ~InputFile() = default;
  virtual const std::string& name() const = 0;
  // Bytes in the file; for devices, what lseek(SEEK_END) says.
  virtual uint64_t size() const = 0;
  // Exactly out.size() bytes at offset, or an error naming the offset.
  virtual Status read_at(uint64_t offset, std::span<std::byte> out) = 0;
  // [offset, offset + length) as a view. The default copies through read_at;
  // file-backed inputs map the window instead (bounded: the caller asks only for
  // what it processes next, never the whole file).
  virtual Result<ByteView> view(uint64_t offset, uint64_t length);
  // True when read_at into a buffer the caller reuses costs less than view()
  // for data read once: a file in the page cache is copied from the kernel's
  // direct map, where a fresh mapping costs a page-table update and a TLB
  // miss per page (half the CPU time of a whole run, bench/RESULTS.md).
  // False for /proc/vmcore, whose read() maps each page of old memory anew.
  virtual bool prefers_read() const { return false; }
};

struct OpenInputOptions {
  bool use_mmap = true;  // false: --non-mmap, read() only
};

Result<std::unique_ptr<InputFile>> open_input(const std::string& path,
                                              const OpenInputOptions& options = {});
// An input over bytes in memory (tests, fuzzers, decoded headers).
std::unique_ptr<InputFile> memory_input(std::string name, std::vector<std::byte> bytes);

// A destination for a dump. Regular files take writes at any offset; a pipe
// takes them only in order (the flattened format exists for that case).
class OutputFile {
 public:
  virtual ~OutputFile() = default;
  virtual const std::string& name() const = 0;
  virtual bool seekable() const = 0;
  // Writes all of data at offset. A non-seekable output accepts only
  // offset == bytes_written().
  virtual Status write_at(uint64_t offset, std::span<const std::byte> data) = 0;
  // Writes the pieces back to back from offset, as write_at of their
  // concatenation would. Files take a chunk of pages in one system call this
  // way, without first copying them into one buffer.
  virtual Status write_gather(uint64_t offset, std::span<const std::span<const std::byte>> pieces);
  virtual uint64_t bytes_written() const = 0;
  // Allocates [offset, offset + length) ahead of time where the file system
  // can (fallocate), so that later in-place updates of headers and bitmaps
  // still succeed when the disk fills up with page data. A no-op elsewhere.
  virtual Status reserve(uint64_t offset, uint64_t length) {
    (void)offset;
    (void)length;
    return {};
  }
  // Flushes and closes; the output is complete on disk when this succeeds.
  virtual Status finish() = 0;
  // The run failed before the output held anything worth keeping: close it
  // and remove the file if this run created it (never a FIFO, a device or a
  // file that has since been replaced). A no-op where nothing was created.
  virtual void abandon() {}
};

struct CreateOutputOptions {
  bool overwrite = false;     // -f: replace an existing regular file or symlink
  bool allow_device = false;  // -R onto a raw disk: an existing block device (with -f)
};

// Creates path with mode 0600 (dumps hold secrets), never through a symlink
// in the last component. Refuses an existing file unless options.overwrite,
// as makedumpfile does; with it, an existing regular file or symlink is
// unlinked and a new file created in its place, so that a link's target and
// another hard link's data are left alone. A FIFO, or a symlink to one
// (/dev/stdout), is written as it is (no truncation, no chmod). Anything else (a directory, a character device, a
// socket, a block device unless allow_device) is refused.
Result<std::unique_ptr<OutputFile>> create_output(const std::string& path,
                                                  const CreateOutputOptions& options = {});

// Refuses, before anything is created or truncated, an output that is the
// same file (st_dev/st_ino) as an input or as another output. An output that
// does not exist yet is compared by its directory and last component, so that
// "s1" and "./s1" are the same output too.
Status refuse_shared_files(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);
// Opens an existing file for in-place header updates (e.g. marking incomplete).
Result<std::unique_ptr<OutputFile>> open_output_for_update(const std::string& path);
// Standard output, sequential only when it is a pipe.
std::unique_ptr<OutputFile> stdout_output();
// What a file of this st_mode is, for messages: "a pipe", "a directory", ...
std::string file_kind(mode_t mode);
// An output that keeps nothing and counts: --dry-run's, so that every
// writer's work (and its size, in bytes_written) happens without a file.
std::unique_ptr<OutputFile> discarding_output(std::string name);
// An in-memory output (tests and fuzzers); contents() is the file as written.
class MemoryOutput;
std::unique_ptr<MemoryOutput> memory_output(std::string name = "<memory>");

class MemoryOutput : public OutputFile {
 public:
  explicit MemoryOutput(std::string name, bool seekable = true)
      : name_(std::move(name)), seekable_(seekable) {}
  const std::string& name() const override { return name_; }
  bool seekable() const override { return seekable_; }
  Status write_at(uint64_t offset, std::span<const std::byte> data) override;
  uint64_t bytes_written() const override { return written_; }
  Status finish() override { return {}; }
  const std::vector<std::byte>& contents() const { return bytes_; }

 private:
  std::string name_;
  bool seekable_;
  std::vector<std::byte> bytes_;
  uint64_t written_ = 0;
};

// ---- Fault injection (tests and the hidden --inject-fault option) ----------

struct FaultPlan {
  struct ByteRange {
    uint64_t begin;
    uint64_t end;  // exclusive
  };
  std::vector<ByteRange> read_eio;          // reads touching these input offsets fail with EIO
  std::optional<uint64_t> short_read_at;    // reads crossing this offset return short (then EIO)
  std::optional<uint64_t> write_enospc_at;  // writes reaching this output offset fail with ENOSPC
  std::optional<uint64_t> write_eio_at;     // ... or with EIO
  bool empty() const {
    return read_eio.empty() && !short_read_at && !write_enospc_at && !write_eio_at;
  }
};

// Parses "read-eio=A-B,short-read=X,write-enospc=Y,write-eio=Z" (numbers in
// decimal or 0x hex; several read-eio allowed).
Result<FaultPlan> parse_fault_plan(std::string_view spec);

std::unique_ptr<InputFile> with_faults(std::unique_ptr<InputFile> inner, const FaultPlan& plan);
std::unique_ptr<OutputFile> with_faults(std::unique_ptr<OutputFile> inner, const FaultPlan& plan);

}  // namespace vmc::io
