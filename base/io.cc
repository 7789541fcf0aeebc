// POSIX implementations of the I/O seam, and the fault-injecting decorators.
// Inputs map only the window a caller asks for (a capture kernel cannot map a
// whole terabyte of /proc/vmcore), or read() it with --non-mmap.
#include "base/io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>

namespace vmc::io {
namespace {

std::string at(const std::string& name, uint64_t offset) {
  return name + " at offset " + hex(offset);
}

class FdHolder {
 public:
  explicit FdHolder(int fd) : fd_(fd) {}
  ~FdHolder() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdHolder(const FdHolder&) = delete;
  FdHolder& operator=(const FdHolder&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

class PosixInput final : public InputFile {
 public:
  PosixInput(std::string name, int fd, uint64_t size, bool use_mmap, bool page_cached)
      : name_(std::move(name)), fd_(fd), size_(size), use_mmap_(use_mmap), page_cached_(page_cached) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  bool prefers_read() const override { return page_cached_ || !use_mmap_; }

  Status read_at(uint64_t offset, std::span<std::byte> out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        read_failed_.store(true, std::memory_order_relaxed);
        return errno_error("cannot read " + std::to_string(out.size() - done) + " bytes from " +
                               at(name_, offset + done), err);
      }
      if (n == 0) {
        read_failed_.store(true, std::memory_order_relaxed);
        return Error(ErrorKind::kBadInput, "unexpected end of file reading " +
                                               std::to_string(out.size()) + " bytes from " +
                                               at(name_, offset) + " (file is truncated?)");
      }
      done += static_cast<size_t>(n);
    }
    return {};
  }

  // Maps the window only where a mapping cannot fault: touching a mapped
  // page whose read fails (EIO) or that lies past the end of a file that
  // shrank kills the process with SIGBUS. So a dump file (read cheaper than
  // mapped anyway) is read; an input that has failed a read is read from
  // then on, so that a failed range is never retried through a mapping; and
  // the rest (/proc/vmcore) is mapped only inside its current size.
  Result<ByteView> view(uint64_t offset, uint64_t length) override {
    if (!maps_safely() || length == 0) return InputFile::view(offset, length);
    VMC_TRY(check_inside_current_size(offset, length));
    static const uint64_t kMmapGranule = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    uint64_t aligned = offset & ~(kMmapGranule - 1);
    size_t map_len = static_cast<size_t>(length + (offset - aligned));
    void* p = ::mmap(nullptr, map_len, PROT_READ, MAP_PRIVATE, fd_.get(), static_cast<off_t>(aligned));
    if (p == MAP_FAILED) {
      // Some inputs (pipes, old /proc/vmcore) cannot be mapped: read instead.
      use_mmap_.store(false, std::memory_order_relaxed);
      return InputFile::view(offset, length);
    }
    std::shared_ptr<const void> owner(p, [map_len](const void* q) {
      ::munmap(const_cast<void*>(q), map_len);
    });
    auto* bytes = static_cast<const std::byte*>(p) + (offset - aligned);
    return ByteView(std::move(owner), {bytes, static_cast<size_t>(length)});
  }

 private:
  bool maps_safely() const {
    return use_mmap_.load(std::memory_order_relaxed) && !page_cached_ &&
           !read_failed_.load(std::memory_order_relaxed);
  }

  // The size now, not at open: a mapping past the end of a file faults.
  Status check_inside_current_size(uint64_t offset, uint64_t length) const {
    uint64_t now = size_;
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0 && S_ISREG(st.st_mode)) {
      now = static_cast<uint64_t>(st.st_size);
    } else if (now == 0) {
      return {};  // a device that does not say its size
    }
    if (offset > now || length > now - offset) {
      return Error(ErrorKind::kBadInput, std::to_string(length) + " bytes at " + at(name_, offset) +
                                             " lie beyond the end of the file (" + std::to_string(now) +
                                             " bytes; truncated?)");
    }
    return {};
  }

  std::string name_;
  FdHolder fd_;
  uint64_t size_;
  std::atomic<bool> use_mmap_;
  bool page_cached_;  // a regular file, not /proc/vmcore
  std::atomic<bool> read_failed_{false};  // engine workers read concurrently
};

class MemoryInput final : public InputFile {
 public:
  MemoryInput(std::string name, std::vector<std::byte> bytes)
      : name_(std::move(name)), bytes_(std::make_shared<std::vector<std::byte>>(std::move(bytes))) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return bytes_->size(); }
  Status read_at(uint64_t offset, std::span<std::byte> out) override {
    if (out.empty()) return {};
    if (offset > bytes_->size() || out.size() > bytes_->size() - offset) {
      return Error(ErrorKind::kBadInput, "unexpected end of file reading " +
                                             std::to_string(out.size()) + " bytes from " +
                                             at(name_, offset) + " (file is truncated?)");
    }
    std::memcpy(out.data(), bytes_->data() + offset, out.size());
    return {};
  }
  Result<ByteView> view(uint64_t offset, uint64_t length) override {
    if (offset > bytes_->size() || length > bytes_->size() - offset) {
      return InputFile::view(offset, length);  // produces the truncation error
    }
    return ByteView(bytes_, {bytes_->data() + offset, static_cast<size_t>(length)});
  }

 private:
  std::string name_;
  std::shared_ptr<std::vector<std::byte>> bytes_;
};

// The file this run created, so that abandon() removes that file and no
// other (the path may have been replaced since).
struct CreatedFile {
  dev_t dev;
  ino_t ino;
};

class PosixOutput final : public OutputFile {
 public:
  PosixOutput(std::string name, int fd, bool seekable, bool owns_fd,
              std::optional<CreatedFile> created = std::nullopt)
      : name_(std::move(name)), fd_(owns_fd ? fd : -1), raw_fd_(fd), seekable_(seekable),
        created_(created) {
    struct stat st {};
    if (!seekable_ && ::fstat(fd, &st) == 0) kind_ = file_kind(st.st_mode);
  }
  const std::string& name() const override { return name_; }
  bool seekable() const override { return seekable_; }
  uint64_t bytes_written() const override { return end_; }

  Status write_at(uint64_t offset, std::span<const std::byte> data) override {
    if (!seekable_ && offset != end_) {
      return Error(ErrorKind::kInvalidArgument,
                   "cannot seek in " + name_ + " (" + kind_ + ") to offset " + hex(offset));
    }
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = seekable_ ? ::pwrite(raw_fd_, data.data() + done, data.size() - done,
                                       static_cast<off_t>(offset + done))
                            : ::write(raw_fd_, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error("cannot write " + std::to_string(data.size() - done) + " bytes to " +
                           at(name_, offset + done));
      }
      done += static_cast<size_t>(n);
    }
    end_ = std::max(end_, offset + data.size());
    note_written(data.size());
    return {};
  }

  Status write_gather(uint64_t offset, std::span<const std::span<const std::byte>> pieces) override {
    if (!seekable_ && offset != end_) {
      return Error(ErrorKind::kInvalidArgument,
                   "cannot seek in " + name_ + " (" + kind_ + ") to offset " + hex(offset));
    }
    iovecs_.clear();
    uint64_t total = 0;
    for (auto piece : pieces) {
      if (piece.empty()) continue;
      iovecs_.push_back({const_cast<std::byte*>(piece.data()), piece.size()});
      total += piece.size();
    }
    // A short write leaves [first, iovecs_.end()) to go, the first one maybe partly.
    uint64_t done = 0;
    for (size_t first = 0; first < iovecs_.size();) {
      int count = static_cast<int>(std::min<size_t>(iovecs_.size() - first, IOV_MAX));
      ssize_t n = seekable_ ? ::pwritev(raw_fd_, &iovecs_[first], count, static_cast<off_t>(offset + done))
                            : ::writev(raw_fd_, &iovecs_[first], count);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error("cannot write " + std::to_string(total - done) + " bytes to " +
                           at(name_, offset + done));
      }
      done += static_cast<uint64_t>(n);
      for (auto left = static_cast<size_t>(n); left != 0;) {
        size_t take = std::min(left, iovecs_[first].iov_len);
        iovecs_[first].iov_base = static_cast<std::byte*>(iovecs_[first].iov_base) + take;
        iovecs_[first].iov_len -= take;
        left -= take;
        if (iovecs_[first].iov_len == 0) ++first;
      }
    }
    end_ = std::max(end_, offset + total);
    note_written(total);
    return {};
  }

  Status reserve(uint64_t offset, uint64_t length) override {
    if (!seekable_ || length == 0) return {};
    int rc = ::posix_fallocate(raw_fd_, static_cast<off_t>(offset), static_cast<off_t>(length));
    if (rc == ENOSPC || rc == EDQUOT) {
      return errno_error("cannot reserve " + std::to_string(length) + " bytes in " +
                             at(name_, offset), rc);
    }
    return {};  // EOPNOTSUPP and friends: nothing to gain, nothing lost
  }

  // Once it succeeded, again is a no-op (the descriptor is closed).
  Status finish() override {
    if (finished_) return {};
    if (seekable_ && ::fsync(raw_fd_) != 0 && errno != EINVAL && errno != EROFS) {
      return errno_error("cannot sync " + name_);
    }
    finished_ = true;
    if (fd_.get() >= 0 && ::close(fd_.release()) != 0) return errno_error("cannot close " + name_);
    return {};
  }

  void abandon() override {
    if (fd_.get() >= 0) ::close(fd_.release());
    struct stat st {};
    if (created_ && ::lstat(name_.c_str(), &st) == 0 && st.st_dev == created_->dev &&
        st.st_ino == created_->ino) {
      ::unlink(name_.c_str());
    }
    created_.reset();
  }

 private:
  // The disk works while we compress: every kWritebackStep bytes, start
  // writeback of what is dirty, without waiting for it. The fsync at the end
  // then finds little left, and a small capture kernel holds little dirty
  // page cache. Only a hint: a write error still surfaces in that fsync.
  static constexpr uint64_t kWritebackStep = 8 << 20;
  void note_written(uint64_t bytes) {
    unkicked_ += bytes;
    if (!kick_writeback_ || unkicked_ < kWritebackStep) return;
    unkicked_ = 0;
    // EINVAL, ESPIPE, ENOSYS: this file cannot take the hint; stop giving it.
    if (::sync_file_range(raw_fd_, 0, 0, SYNC_FILE_RANGE_WRITE) != 0 && errno != EINTR) {
      kick_writeback_ = false;
    }
  }

  std::string name_;
  FdHolder fd_;
  int raw_fd_;
  bool seekable_;
  std::optional<CreatedFile> created_;
  bool finished_ = false;
  std::string kind_ = "not seekable";
  uint64_t end_ = 0;
  std::vector<iovec> iovecs_;
  bool kick_writeback_ = seekable_;
  uint64_t unkicked_ = 0;
};

bool overlaps(const FaultPlan::ByteRange& r, uint64_t offset, uint64_t length) {
  return offset < r.end && r.begin < offset + length;
}

class FaultyInput final : public InputFile {
 public:
  FaultyInput(std::unique_ptr<InputFile> inner, FaultPlan plan)
      : inner_(std::move(inner)), plan_(std::move(plan)) {}
  const std::string& name() const override { return inner_->name(); }
  uint64_t size() const override { return inner_->size(); }
  Status read_at(uint64_t offset, std::span<std::byte> out) override {
    VMC_TRY(check(offset, out.size()));
    return inner_->read_at(offset, out);
  }
  Result<ByteView> view(uint64_t offset, uint64_t length) override {
    if (auto s = check(offset, length); !s) return std::move(s).error();
    return inner_->view(offset, length);
  }
  bool prefers_read() const override { return inner_->prefers_read(); }

 private:
  Status check(uint64_t offset, uint64_t length) const {
    for (const auto& r : plan_.read_eio) {
      if (overlaps(r, offset, length)) {
        return errno_error("cannot read " + at(name(), std::max(offset, r.begin)) +
                               " (injected fault)", EIO);
      }
    }
    if (plan_.short_read_at && *plan_.short_read_at >= offset &&
        *plan_.short_read_at < offset + length) {
      return Error(ErrorKind::kBadInput, "short read from " + at(name(), *plan_.short_read_at) +
                                             " (injected fault)", EIO);
    }
    return {};
  }
  std::unique_ptr<InputFile> inner_;
  FaultPlan plan_;
};

class FaultyOutput final : public OutputFile {
 public:
  FaultyOutput(std::unique_ptr<OutputFile> inner, FaultPlan plan)
      : inner_(std::move(inner)), plan_(std::move(plan)) {}
  const std::string& name() const override { return inner_->name(); }
  bool seekable() const override { return inner_->seekable(); }
  uint64_t bytes_written() const override { return inner_->bytes_written(); }
  Status reserve(uint64_t offset, uint64_t length) override { return inner_->reserve(offset, length); }
  Status finish() override { return inner_->finish(); }
  void abandon() override { inner_->abandon(); }
  Status write_at(uint64_t offset, std::span<const std::byte> data) override {
    auto fail_at = [&](std::optional<uint64_t> limit, int err) -> std::optional<Error> {
      if (!limit || offset + data.size() <= *limit) return std::nullopt;
      // Like a real full disk: what fits before the limit lands, then the error.
      if (offset < *limit) (void)inner_->write_at(offset, data.first(*limit - offset));
      return errno_error("cannot write " + std::to_string(data.size()) + " bytes to " +
                             at(name(), std::max(offset, *limit)) + " (injected fault)", err);
    };
    if (auto e = fail_at(plan_.write_enospc_at, ENOSPC)) return std::move(*e);
    if (auto e = fail_at(plan_.write_eio_at, EIO)) return std::move(*e);
    return inner_->write_at(offset, data);
  }

 private:
  std::unique_ptr<OutputFile> inner_;
  FaultPlan plan_;
};

std::optional<uint64_t> parse_u64(std::string_view s) {
  int base = 10;
  if (s.starts_with("0x") || s.starts_with("0X")) {
    s.remove_prefix(2);
    base = 16;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

// What a file is, for messages: "a pipe", "a character device", ...
std::string file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a pipe";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "a special file";
}


ByteView ByteView::copy_of(std::vector<std::byte> bytes) {
  auto owner = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  std::span<const std::byte> span(owner->data(), owner->size());
  return ByteView(std::move(owner), span);
}

Status OutputFile::write_gather(uint64_t offset, std::span<const std::span<const std::byte>> pieces) {
  for (auto piece : pieces) {
    VMC_TRY(write_at(offset, piece));
    offset += piece.size();
  }
  return {};
}

Result<ByteView> InputFile::view(uint64_t offset, uint64_t length) {
  std::vector<std::byte> buf(static_cast<size_t>(length));
  VMC_TRY(read_at(offset, buf));
  return ByteView::copy_of(std::move(buf));
}

Result<std::unique_ptr<InputFile>> open_input(const std::string& path,
                                              const OpenInputOptions& options) {
  // Looked at before open(), which waits for a writer on a FIFO.
  if (struct stat st {}; ::stat(path.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
    return Error(ErrorKind::kInvalidArgument,
                 path + " is " + file_kind(st.st_mode) +
                     ": a dump is read at any offset (a flattened stream from a pipe is rebuilt with -R)");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open " + path);
  FdHolder holder(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_error("cannot stat " + path);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (!S_ISREG(st.st_mode)) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    size = end > 0 ? static_cast<uint64_t>(end) : 0;
  }
  if (S_ISDIR(st.st_mode)) {
    return Error(ErrorKind::kInvalidArgument, path + " is a directory, not a dump");
  }

  // procfs files (/proc/vmcore) are regular files too, but are not page cached.
  struct statfs fs {};
  bool page_cached = S_ISREG(st.st_mode) && ::fstatfs(fd, &fs) == 0 && fs.f_type != PROC_SUPER_MAGIC;
  return std::unique_ptr<InputFile>(
      std::make_unique<PosixInput>(path, holder.release(), size, options.use_mmap, page_cached));
}

std::unique_ptr<InputFile> memory_input(std::string name, std::vector<std::byte> bytes) {
  return std::make_unique<MemoryInput>(std::move(name), std::move(bytes));
}

namespace {

Error already_exists(const std::string& path) {
  return Error(ErrorKind::kInvalidArgument,
               "the dumpfile " + path + " already exists (use -f to overwrite it)");
}

// A new file of ours: O_EXCL and O_NOFOLLOW, so that nothing that appeared
// at path since we looked (a symlink planted in /var/crash) is opened instead.
Result<std::unique_ptr<OutputFile>> create_new_output(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return already_exists(path);
    return errno_error("cannot create the dumpfile " + path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto e = errno_error("cannot stat the dumpfile " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return e;
  }
  return std::unique_ptr<OutputFile>(std::make_unique<PosixOutput>(
      path, fd, true, true, CreatedFile{st.st_dev, st.st_ino}));
}

// A FIFO or (for -R) a block device that is there already: written as it is,
// never truncated or chmod'ed. Checked again once open, in case path changed.
Result<std::unique_ptr<OutputFile>> open_existing_output(const std::string& path, mode_t expected_type,
                                                         int nofollow) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | nofollow);
  if (fd < 0) return errno_error("cannot open the dumpfile " + path);
  FdHolder holder(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_error("cannot stat the dumpfile " + path);
  if ((st.st_mode & S_IFMT) != expected_type) {
    return Error(ErrorKind::kInvalidArgument, "the dumpfile " + path + " changed while it was opened");
  }
  return std::unique_ptr<OutputFile>(
      std::make_unique<PosixOutput>(path, holder.release(), S_ISBLK(st.st_mode), true));
}

}  // namespace

Result<std::unique_ptr<OutputFile>> create_output(const std::string& path,
                                                  const CreateOutputOptions& options) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return errno_error("cannot create the dumpfile " + path);
    return create_new_output(path);
  }
  int nofollow = O_NOFOLLOW;
  struct stat target {};
  // A link to a pipe (/dev/stdout, /dev/fd/N) is written through, as the pipe
  // itself would be: replacing it would unlink a /dev entry. And -R onto a
  // raw disk is often spelled /dev/disk/by-id/...: a link to a device.
  if (S_ISLNK(st.st_mode) && ::stat(path.c_str(), &target) == 0 &&
      (S_ISFIFO(target.st_mode) || (options.allow_device && S_ISBLK(target.st_mode)))) {
    st = target;
    nofollow = 0;
  }
  if (S_ISFIFO(st.st_mode)) return open_existing_output(path, S_IFIFO, nofollow);
  if (S_ISBLK(st.st_mode) && options.allow_device) {
    if (!options.overwrite) return already_exists(path);
    return open_existing_output(path, S_IFBLK, nofollow);
  }
  if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
    return Error(ErrorKind::kInvalidArgument,
                 "the dumpfile " + path + " is " + file_kind(st.st_mode) +
                     (options.allow_device ? ", not a regular file, a FIFO or a block device"
                                           : ", not a regular file or a FIFO"));
  }
  if (!options.overwrite) return already_exists(path);
  // Replace the file (or the link itself), never write through it: the new
  // file is ours and 0600, and an old link's target keeps its data and mode.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return errno_error("cannot replace the dumpfile " + path);
  }
  return create_new_output(path);
}

namespace {

// Which file a path names. One that does not exist yet is named by its
// directory and last component.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string new_name;
  bool operator==(const FileIdentity&) const = default;
};

std::optional<FileIdentity> identity_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return FileIdentity{st.st_dev, st.st_ino, {}};
  std::filesystem::path p(path);
  std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  std::string name = p.filename().string();
  if (name.empty() || name == "." || name == ".." || ::stat(dir.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_dev, st.st_ino, name};
}

}  // namespace

Status refuse_shared_files(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
  std::vector<std::pair<std::string, FileIdentity>> inputs_seen;
  for (const auto& path : inputs) {
    if (auto id = identity_of(path)) inputs_seen.emplace_back(path, *id);
  }
  std::vector<std::pair<std::string, FileIdentity>> outputs_seen;
  for (const auto& path : outputs) {
    auto id = identity_of(path);
    if (!id) continue;  // creating it will say why not
    for (const auto& [input, input_id] : inputs_seen) {
      if (input_id == *id) {
        return Error(ErrorKind::kInvalidArgument, "the dumpfile " + path + " is the same file as the input " +
                                                      input + ": it would be destroyed");
      }
    }
    for (const auto& [other, other_id] : outputs_seen) {
      if (other_id == *id) {
        return Error(ErrorKind::kInvalidArgument,
                     "the dumpfiles " + other + " and " + path + " are the same file");
      }
    }
    outputs_seen.emplace_back(path, *id);
  }
  return {};
}

Result<std::unique_ptr<OutputFile>> open_output_for_update(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open " + path + " for update");
  return std::unique_ptr<OutputFile>(std::make_unique<PosixOutput>(path, fd, true, true));
}

std::unique_ptr<OutputFile> stdout_output() {
  struct stat st {};
  bool seekable = ::fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
                  ::lseek(STDOUT_FILENO, 0, SEEK_CUR) == 0;
  return std::make_unique<PosixOutput>("standard output", STDOUT_FILENO, seekable, false);
}

namespace {

class DiscardingOutput final : public OutputFile {
 public:
  explicit DiscardingOutput(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  bool seekable() const override { return true; }
  Status write_at(uint64_t offset, std::span<const std::byte> data) override {
    end_ = std::max(end_, offset + data.size());
    return {};
  }
  uint64_t bytes_written() const override { return end_; }
  Status finish() override { return {}; }

 private:
  std::string name_;
  uint64_t end_ = 0;
};

}  // namespace

std::unique_ptr<OutputFile> discarding_output(std::string name) {
  return std::make_unique<DiscardingOutput>(std::move(name));
}

std::unique_ptr<MemoryOutput> memory_output(std::string name) {
  return std::make_unique<MemoryOutput>(std::move(name));
}

Status MemoryOutput::write_at(uint64_t offset, std::span<const std::byte> data) {
  if (!seekable_ && offset != written_) {
    return Error(ErrorKind::kInvalidArgument, "cannot seek in " + name_ + " to " + hex(offset));
  }
  if (bytes_.size() < offset + data.size()) bytes_.resize(offset + data.size());
  std::copy(data.begin(), data.end(), bytes_.begin() + static_cast<ptrdiff_t>(offset));
  written_ = std::max<uint64_t>(written_, offset + data.size());
  return {};
}

Result<FaultPlan> parse_fault_plan(std::string_view spec) {
  FaultPlan plan;
  auto bad = [&](std::string_view item) {
    return Error(ErrorKind::kInvalidArgument, "bad fault spec '" + std::string(item) + "'");
  };
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return bad(item);
    std::string_view key = item.substr(0, eq), val = item.substr(eq + 1);
    if (key == "read-eio") {
      auto dash = val.find('-');
      auto b = parse_u64(val.substr(0, dash));
      auto e = dash == std::string_view::npos ? (b ? std::optional(*b + 1) : std::nullopt)
                                              : parse_u64(val.substr(dash + 1));
      if (!b || !e || *e <= *b) return bad(item);
      plan.read_eio.push_back({*b, *e});
      continue;
    }
    auto v = parse_u64(val);
    if (!v) return bad(item);
    if (key == "short-read") plan.short_read_at = *v;
    else if (key == "write-enospc") plan.write_enospc_at = *v;
    else if (key == "write-eio") plan.write_eio_at = *v;
    else return bad(item);
  }
  return plan;
}

std::unique_ptr<InputFile> with_faults(std::unique_ptr<InputFile> inner, const FaultPlan& plan) {
  if (plan.empty()) return inner;
  return std::make_unique<FaultyInput>(std::move(inner), plan);
}

std::unique_ptr<OutputFile> with_faults(std::unique_ptr<OutputFile> inner, const FaultPlan& plan) {
  if (plan.empty()) return inner;
  return std::make_unique<FaultyOutput>(std::move(inner), plan);
}

}  // namespace vmc::io
