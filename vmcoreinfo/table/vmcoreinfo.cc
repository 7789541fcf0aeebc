// Why a table: makedumpfile rescans the note text for every key and falls back
// silently between number bases; parsing once makes every lookup cheap and every
// malformed entry an error at the line that holds it.
#include "vmcoreinfo/table/vmcoreinfo.h"

#include <charconv>

namespace vmc {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

template <typename T>
std::optional<T> parse_number(std::string_view text, int base) {
  if (base == 16 && (text.starts_with("0x") || text.starts_with("0X"))) text.remove_prefix(2);
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// "SYMBOL(name)" -> {"SYMBOL", "name"}; plain keys -> {key, ""}.
std::pair<std::string_view, std::string_view> split_kind(std::string_view key) {
  auto open = key.find('(');
  if (open == std::string_view::npos || key.back() != ')') return {key, {}};
  return {key.substr(0, open), key.substr(open + 1, key.size() - open - 2)};
}

template <typename Map>
auto find(const Map& map, std::string_view name) -> std::optional<typename Map::mapped_type> {
  auto it = map.find(name);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

Error missing(std::string_view kind, std::string_view name) {
  return Error(ErrorKind::kUnsupported,
               "VMCOREINFO has no " + std::string(kind) + "(" + std::string(name) + ")");
}

}  // namespace

Result<VmcoreInfo> VmcoreInfo::parse(std::string_view text) {
  VmcoreInfo info;
  info.text_ = std::string(text);
  size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    // The note is NUL-padded to a 4-byte boundary.
    while (!line.empty() && line.back() == '\0') line.remove_suffix(1);
    if (line.empty()) continue;
    auto eq = line.find('=');
    auto bad = [&](std::string_view why) {
      return Error(ErrorKind::kBadInput, "VMCOREINFO line " + std::to_string(line_no) + " '" +
                                             std::string(line.substr(0, 80)) + "': " +
                                             std::string(why));
    };
    if (eq == std::string_view::npos || eq == 0) return bad("expected KEY=VALUE");
    std::string_view key = line.substr(0, eq);
    std::string_view val = trim(line.substr(eq + 1));
    auto [kind, name] = split_kind(key);
    if (!name.empty()) {
      std::string n(name);
      if (kind == "SYMBOL") {
        auto v = parse_number<uint64_t>(val, 16);
        if (!v) return bad("not a hex address");
        info.symbols_[n] = *v;
      } else if (kind == "NUMBER") {
        // %ld, except the few the kernel prints as 0x%lx (VMALLOC_START from
        // 6.9, arm64 KERNELPACMASK): those keep their 64-bit pattern.
        std::optional<int64_t> v;
        if (val.starts_with("0x") || val.starts_with("0X")) {
          if (auto u = parse_number<uint64_t>(val, 16)) v = static_cast<int64_t>(*u);
        } else {
          v = parse_number<int64_t>(val, 10);
        }
        if (!v) return bad("not a decimal (or 0x-prefixed hex) number");
        info.numbers_[n] = *v;
      } else if (kind == "SIZE" || kind == "OFFSET" || kind == "LENGTH") {
        auto v = parse_number<uint64_t>(val, 10);
        if (!v) return bad("not a decimal number");
        auto& map = kind == "SIZE" ? info.sizes_ : kind == "OFFSET" ? info.offsets_ : info.lengths_;
        map[n] = *v;
      } else {
        info.values_[std::string(key)] = std::string(val);
      }
      continue;
    }
    if (key == "PAGESIZE") {
      auto v = parse_number<uint64_t>(val, 10);
      if (!v || *v == 0 || (*v & (*v - 1)) != 0) return bad("not a power-of-two page size");
      info.page_size_ = *v;
    } else if (key == "KERNELOFFSET") {
      auto v = parse_number<uint64_t>(val, 16);
      if (!v) return bad("not a hex offset");
      info.kernel_offset_ = *v;
    } else if (key == "CRASHTIME") {
      auto v = parse_number<int64_t>(val, 10);
      if (!v) return bad("not a decimal time");
      info.crash_time_ = *v;
    }
    info.values_[std::string(key)] = std::string(val);
  }
  return info;
}

std::optional<uint64_t> VmcoreInfo::symbol(std::string_view n) const { return find(symbols_, n); }
std::optional<uint64_t> VmcoreInfo::size(std::string_view n) const { return find(sizes_, n); }
std::optional<uint64_t> VmcoreInfo::offset(std::string_view n) const { return find(offsets_, n); }
std::optional<uint64_t> VmcoreInfo::length(std::string_view n) const { return find(lengths_, n); }
std::optional<int64_t> VmcoreInfo::number(std::string_view n) const { return find(numbers_, n); }
std::optional<std::string> VmcoreInfo::value(std::string_view k) const { return find(values_, k); }

Result<uint64_t> VmcoreInfo::require_symbol(std::string_view n) const {
  if (auto v = symbol(n)) return *v;
  return missing("SYMBOL", n);
}
Result<uint64_t> VmcoreInfo::require_size(std::string_view n) const {
  if (auto v = size(n)) return *v;
  return missing("SIZE", n);
}
Result<uint64_t> VmcoreInfo::require_offset(std::string_view n) const {
  if (auto v = offset(n)) return *v;
  return missing("OFFSET", n);
}
Result<int64_t> VmcoreInfo::require_number(std::string_view n) const {
  if (auto v = number(n)) return *v;
  return missing("NUMBER", n);
}

std::optional<uint32_t> VmcoreInfo::kernel_version() const {
  auto release = value("OSRELEASE");
  if (!release) return std::nullopt;
  uint32_t parts[3] = {0, 0, 0};
  std::string_view rest = *release;
  for (int i = 0; i < 3 && !rest.empty(); ++i) {
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), parts[i]);
    if (ec != std::errc()) return i >= 2 ? std::optional(kernel_version_code(parts[0], parts[1], 0))
                                         : std::nullopt;
    rest = rest.substr(static_cast<size_t>(end - rest.data()));
    if (rest.empty() || rest.front() != '.') break;
    rest.remove_prefix(1);
  }
  return kernel_version_code(parts[0], parts[1], parts[2]);
}

}  // namespace vmc
