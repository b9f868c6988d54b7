// Loading a plugin library and validating what it declares.
#include <fmt/format.h>
#include <boost/dll/shared_library.hpp>

#include <elf.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/text.h"
#include "plugin/plugin.h"

namespace th {

struct PluginLibrary::Impl {
  boost::dll::shared_library library;
};

namespace {

// The smallest descriptor and tables an ABI 1.0 plugin can hand over.
constexpr uint32_t kMinDescriptorSize = offsetof(th_plugin_descriptor, broker) + sizeof(void*);
constexpr uint32_t kMinDataSize = offsetof(th_data_api, lookup) + sizeof(void*);
constexpr uint32_t kMinBrokerSize = offsetof(th_broker_api, on_bar) + sizeof(void*);

Error loadError(const std::string& path, std::string reason) {
  return Error{ErrorCode::Plugin, fmt::format("plugin {}: {}", path, reason)};
}

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#else
constexpr uint16_t kHostMachine = EM_NONE;  // not checked
#endif

// What is wrong with the file as a shared object for this host, or nullopt.
// dlopen maps the segments the program headers describe: one that reaches
// past the end of a truncated file is a SIGBUS when the loader touches it,
// not an error it could return. So the headers are read and checked first.
std::optional<std::string> elfProblem(const std::string& path, uintmax_t size) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr header{};
  in.read(reinterpret_cast<char*>(&header), sizeof header);
  if (in.gcount() < 4 || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    return "not a shared object (no ELF header)";
  }
  if (static_cast<size_t>(in.gcount()) < sizeof header) {
    return fmt::format("truncated: {} bytes, shorter than an ELF header", size);
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB) {
    return "not a 64-bit little-endian ELF file";
  }
  if (header.e_type != ET_DYN) return "an ELF file but not a shared object (ET_DYN)";
  if (kHostMachine != EM_NONE && header.e_machine != kHostMachine) {
    return fmt::format("built for another machine (ELF machine {}, this host is {})", header.e_machine, kHostMachine);
  }
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 ||
      header.e_phoff + static_cast<uint64_t>(header.e_phnum) * sizeof(Elf64_Phdr) > size) {
    return fmt::format("truncated or damaged: its program headers lie outside its {} bytes", size);
  }
  in.seekg(static_cast<std::streamoff>(header.e_phoff));
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment{};
    in.read(reinterpret_cast<char*>(&segment), sizeof segment);
    if (static_cast<size_t>(in.gcount()) != sizeof segment) return "truncated: cannot read its program headers";
    if (segment.p_offset > size || segment.p_filesz > size - segment.p_offset) {
      return fmt::format("truncated: segment {} needs bytes {}..{} but the file has {}", i, segment.p_offset,
                         segment.p_offset + segment.p_filesz, size);
    }
  }
  return std::nullopt;
}

std::string cstr(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace

std::string_view kindName(int32_t kind) {
  switch (kind) {
    case TH_KIND_DATA:
      return "data";
    case TH_KIND_BROKER:
      return "broker";
    default:
      return "unknown";
  }
}

std::string capabilityNames(uint32_t capabilities) {
  static constexpr std::pair<uint32_t, std::string_view> names[] = {{TH_BROKER_NATIVE_BRACKET, "native_bracket"},
                                                                    {TH_BROKER_NATIVE_OCO, "native_oco"},
                                                                    {TH_BROKER_OPTIONS, "options"},
                                                                    {TH_BROKER_SHORTING, "shorting"},
                                                                    {TH_BROKER_REPLACE, "replace"},
                                                                    {TH_BROKER_MARKET_FEED, "market_feed"},
                                                                    {TH_BROKER_NATIVE_EXITS, "native_exits"}};
  std::string out;
  for (auto [bit, name] : names) {
    if (!(capabilities & bit)) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out.empty() ? "none" : out;
}

PluginLibrary::~PluginLibrary() = default;

Result<std::unique_ptr<PluginLibrary>> PluginLibrary::load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::unexpected(loadError(path, "file not found"));
  if (!std::filesystem::is_regular_file(path, ec)) return std::unexpected(loadError(path, "not a regular file"));
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return std::unexpected(loadError(path, fmt::format("cannot be read: {}", ec.message())));
  if (auto problem = elfProblem(path, size)) return std::unexpected(loadError(path, *problem));

  std::unique_ptr<PluginLibrary> plugin(new PluginLibrary());
  plugin->impl_ = std::make_unique<Impl>();
  boost::system::error_code load_error;
  // RTLD_LOCAL keeps one plugin's symbols from resolving another's.
  plugin->impl_->library.load(boost::dll::fs::path(path),
                              boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_error);
  if (load_error) {
    return std::unexpected(loadError(path, fmt::format("cannot be loaded: {}", load_error.message())));
  }
  if (!plugin->impl_->library.has("th_plugin_entry")) {
    return std::unexpected(loadError(path, "no th_plugin_entry symbol: not a tradehost plugin"));
  }
  auto& entry = plugin->impl_->library.get<std::remove_pointer_t<th_plugin_entry_fn>>("th_plugin_entry");

  // The descriptor is read into a zeroed buffer the plugin cannot overrun.
  th_plugin_descriptor descriptor;
  std::memset(&descriptor, 0, sizeof descriptor);
  descriptor.struct_size = sizeof descriptor;
  char message[1024] = {0};
  th_status status = entry(hostApi(), &descriptor, message, sizeof message);
  if (status == TH_ERR_ABI) {
    return std::unexpected(loadError(path, fmt::format("ABI mismatch reported by the plugin: {}", message)));
  }
  if (status != TH_OK) {
    return std::unexpected(loadError(
        path, fmt::format("th_plugin_entry failed (status {}): {}", status, message[0] ? message : "no message")));
  }
  if (descriptor.struct_size < kMinDescriptorSize) {
    return std::unexpected(
        loadError(path, fmt::format("descriptor struct too small: {} bytes, ABI 1.0 needs at least {}",
                                    descriptor.struct_size, kMinDescriptorSize)));
  }
  if (descriptor.abi_major != TH_ABI_VERSION_MAJOR) {
    return std::unexpected(loadError(
        path, fmt::format("ABI major mismatch: plugin built for ABI {}.{}, this host speaks {}.{}",
                          descriptor.abi_major, descriptor.abi_minor, TH_ABI_VERSION_MAJOR, TH_ABI_VERSION_MINOR)));
  }
  std::string id = cstr(descriptor.id);
  if (!isSafeId(id))
    return std::unexpected(loadError(path, fmt::format("invalid plugin id '{}' (use [a-z0-9_-]+)", id)));
  if (!descriptor.create || !descriptor.destroy) {
    return std::unexpected(loadError(path, "descriptor lacks create or destroy"));
  }

  PluginInfo& info = plugin->info_;
  info.path = path;
  info.id = id;
  info.name = cstr(descriptor.name);
  info.version = cstr(descriptor.version);
  info.description = cstr(descriptor.description);
  info.kind = descriptor.kind;
  info.abi_major = descriptor.abi_major;
  info.abi_minor = descriptor.abi_minor;
  info.descriptor_size = descriptor.struct_size;

  if (descriptor.kind == TH_KIND_DATA) {
    if (!descriptor.data) return std::unexpected(loadError(path, "data plugin without a data function table"));
    if (descriptor.data->struct_size < kMinDataSize) {
      return std::unexpected(
          loadError(path, fmt::format("data table struct too small: {} bytes, ABI 1.0 needs at least {}",
                                      descriptor.data->struct_size, kMinDataSize)));
    }
    std::memcpy(&plugin->data_, descriptor.data, std::min<size_t>(descriptor.data->struct_size, sizeof plugin->data_));
    auto& d = plugin->data_;
    // A table that ends inside a later field has not got it.
    if (!TH_HAS_FIELD(th_data_api, &d, symbols)) d.symbols = nullptr;
    if (!d.connect || !d.disconnect || !d.subscribe || !d.unsubscribe || !d.history) {
      return std::unexpected(loadError(
          path, "data table lacks a required function (connect, disconnect, subscribe, unsubscribe, history)"));
    }
    info.table_size = d.struct_size;
    info.functions = {"connect", "disconnect", "subscribe", "unsubscribe", "history"};
    if (d.option_chain) info.functions.push_back("option_chain");
    if (d.lookup) info.functions.push_back("lookup");
    if (d.symbols) info.functions.push_back("symbols");
  } else if (descriptor.kind == TH_KIND_BROKER) {
    if (!descriptor.broker) return std::unexpected(loadError(path, "broker plugin without a broker function table"));
    if (descriptor.broker->struct_size < kMinBrokerSize) {
      return std::unexpected(
          loadError(path, fmt::format("broker table struct too small: {} bytes, ABI 1.0 needs at least {}",
                                      descriptor.broker->struct_size, kMinBrokerSize)));
    }
    std::memcpy(&plugin->broker_, descriptor.broker,
                std::min<size_t>(descriptor.broker->struct_size, sizeof plugin->broker_));
    auto& b = plugin->broker_;
    if (!b.connect || !b.disconnect || !b.submit || !b.cancel || !b.open_orders || !b.positions || !b.fills ||
        !b.account) {
      return std::unexpected(loadError(path,
                                       "broker table lacks a required function (connect, disconnect, submit, cancel, "
                                       "open_orders, positions, fills, account)"));
    }
    if ((b.capabilities & TH_BROKER_REPLACE) && !b.replace) {
      return std::unexpected(loadError(path, "broker declares the replace capability but has no replace function"));
    }
    if ((b.capabilities & TH_BROKER_MARKET_FEED) && (!b.on_trade || !b.on_quote || !b.on_bar)) {
      return std::unexpected(loadError(path, "broker declares market_feed but lacks on_trade, on_quote or on_bar"));
    }
    info.table_size = b.struct_size;
    info.capabilities = b.capabilities;
    info.functions = {"connect", "disconnect", "submit", "cancel", "open_orders", "positions", "fills", "account"};
    if (b.replace) info.functions.push_back("replace");
    if (b.on_quote) info.functions.push_back("market_feed");
  } else {
    return std::unexpected(
        loadError(path, fmt::format("unknown plugin kind {} (1 = data, 2 = broker)", descriptor.kind)));
  }
  // Keep only the fields both sides know; the pointers stay valid while the
  // library is loaded.
  std::memcpy(&plugin->descriptor_, &descriptor, std::min<size_t>(descriptor.struct_size, sizeof descriptor));
  return plugin;
}

std::string resolvePluginPath(const std::string& library, const std::string& plugin_dir) {
  if (library.find('/') != std::string::npos || library.ends_with(".so")) return library;
  return (std::filesystem::path(plugin_dir) / ("lib" + library + ".so")).string();
}

std::string defaultPluginDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "build/plugins";
  return (exe.parent_path().parent_path() / "plugins").string();
}

}  // namespace th
