// Finds plugin libraries, checks their ABI stamp before running any of their code, and creates
// plugin objects that keep their library loaded for as long as they live.
#include "runtime/plugin_loader.hpp"

#include <latchkey/flow.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/social.hpp>
#include <latchkey/storage/driver.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

namespace latchkey::runtime {

namespace fs = std::filesystem;

namespace {

std::string versionText(unsigned major, unsigned minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

std::string toolchainOf(const AbiStamp& stamp) {
    // The field is fixed-size; never trust it to be terminated.
    return std::string(stamp.toolchain, strnlen(stamp.toolchain, sizeof stamp.toolchain));
}

} // namespace

void checkAbi(const std::string& path, const AbiStamp& stamp, const AbiStamp& host) {
    if (stamp.magic != kAbiMagic) {
        throw PluginLoadError(path + ": " + kAbiSymbol + " is not a Latchkey ABI stamp");
    }
    const std::string theirs = versionText(stamp.major, stamp.minor);
    const std::string ours = versionText(host.major, host.minor);
    if (stamp.major != host.major) {
        throw PluginLoadError(path + ": built for Latchkey SDK " + theirs + ", this host has SDK " +
                              ours + " (the major versions must match; rebuild the plugin)");
    }
    if (stamp.minor > host.minor) {
        throw PluginLoadError(path + ": built for Latchkey SDK " + theirs +
                              ", newer than this host's SDK " + ours +
                              " (upgrade the host or build the plugin against SDK " + ours + ")");
    }
    if (toolchainOf(stamp) != toolchainOf(host)) {
        throw PluginLoadError(path + ": built with C++ library ABI \"" + toolchainOf(stamp) +
                              "\", this host uses \"" + toolchainOf(host) +
                              "\" (rebuild the plugin with the host's toolchain)");
    }
}

PluginLibrary::PluginLibrary(std::string path, boost::dll::shared_library library, AbiStamp stamp,
                             const PluginEntry* entry)
    : path_(std::move(path)), library_(std::move(library)), stamp_(stamp), entry_(entry) {}

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::string& path) {
    namespace dll = boost::dll;
    dll::shared_library library;
    boost::dll::fs::error_code ec;
    // rtld_now: an unresolved symbol fails here, not in the middle of a request.
    library.load(path, dll::load_mode::rtld_now | dll::load_mode::rtld_local, ec);
    if (ec) {
        // Plugins load at start-up on one thread: dlerror's shared state is not contended.
        const char* reason = dlerror(); // NOLINT(concurrency-mt-unsafe)
        throw PluginLoadError(path + ": cannot load: " + (reason ? reason : ec.message()));
    }
    if (!library.has(kAbiSymbol)) {
        throw PluginLoadError(path + ": not a Latchkey plugin (no " + kAbiSymbol +
                              " symbol; use the LATCHKEY_PLUGIN macro)");
    }
    // Reading data, not calling code: nothing of the plugin runs before the check passes.
    const AbiStamp stamp = library.get<const AbiStamp>(kAbiSymbol);
    checkAbi(path, stamp);
    if (!library.has(kEntrySymbol)) {
        throw PluginLoadError(path + ": has an ABI stamp but no " + kEntrySymbol + " function");
    }
    auto entryFunction = library.get<const PluginEntry*()>(kEntrySymbol);
    const PluginEntry* entry = entryFunction();
    // 2.0's layout is the smallest any 2.x host accepts: later minors fill `reserved` first.
    if (!entry || entry->size < sizeof(PluginEntry) || !entry->info.name || !*entry->info.name ||
        !entry->create || !entry->readSettings || !entry->freeSettings) {
        throw PluginLoadError(path + ": " + kEntrySymbol + " returned an incomplete entry");
    }
    return std::shared_ptr<PluginLibrary>(
        new PluginLibrary(path, std::move(library), stamp, entry));
}

std::vector<std::string> PluginLibrary::storageFacets() const {
    std::vector<std::string> out;
    const InterfaceList& list = entry_->storageFacets;
    for (std::uint32_t i = 0; list.names && i < list.count; ++i) {
        if (list.names[i]) out.emplace_back(list.names[i]);
    }
    return out;
}

std::string PluginLibrary::sdkVersion() const {
    return versionText(stamp_.major, stamp_.minor);
}

PluginSettings PluginLibrary::readSettings(const std::shared_ptr<PluginLibrary>& library,
                                           const ConfigValue& config, ConfigErrors& errors) {
    void* raw = nullptr;
    try {
        raw = library->entry_->readSettings(config, errors);
    } catch (const std::exception& e) {
        errors.add(config, std::string("plugin ") + library->info().name +
                               " failed while reading its settings: " + e.what());
        return nullptr;
    } catch (...) {
        errors.add(config, std::string("plugin ") + library->info().name +
                               " failed while reading its settings (an unknown exception)");
        return nullptr;
    }
    if (!raw) {
        errors.add(config, std::string("plugin ") + library->info().name +
                               " returned no settings from its reader");
        return nullptr;
    }
    // The deleter is the plugin's own (its allocator, its type) and keeps its code mapped.
    return {raw, [library](void* settings) { library->entry_->freeSettings(settings); }};
}

void* kindInterface(Plugin& object, PluginKind kind) noexcept {
    switch (kind) {
    case PluginKind::Storage: return provided<StorageDriver>(object);
    case PluginKind::Mailer: return provided<Mailer>(object);
    case PluginKind::Hasher: return provided<PasswordHasher>(object);
    case PluginKind::Flow: return provided<Flow>(object);
    case PluginKind::Social: return provided<SocialBackend>(object);
    case PluginKind::EventSink: return provided<EventSink>(object);
    }
    return nullptr;
}

std::shared_ptr<Plugin> createPlugin(const std::shared_ptr<PluginLibrary>& library,
                                     PluginContext& context, const PluginSettings& settings) {
    const std::string name = library->info().name;
    if (!settings) {
        throw PluginLoadError("plugin " + name + " (" + library->path() + ") has no settings");
    }
    Plugin* raw = nullptr;
    try {
        raw = library->entry_->create(context, settings.get());
    } catch (const std::exception& e) {
        throw PluginLoadError("plugin " + name + " (" + library->path() +
                              ") failed to start: " + e.what());
    } catch (...) {
        throw PluginLoadError("plugin " + name + " (" + library->path() +
                              ") failed to start with an unknown exception");
    }
    if (!raw) {
        throw PluginLoadError("plugin " + name + " (" + library->path() +
                              "): its factory returned nothing");
    }
    // The deleter owns a reference to the library: the code of the object's destructor stays
    // mapped until the object is gone, however long others hold it.
    std::shared_ptr<Plugin> object(raw, [library](Plugin* p) { delete p; });
    if (!kindInterface(*object, library->info().kind)) {
        throw PluginLoadError("plugin " + name + " (" + library->path() + ") says it is a " +
                              kindName(library->info().kind) +
                              " plugin but its object does not implement that interface");
    }
    return object;
}

std::shared_ptr<PluginLibrary> PluginCatalog::find(const std::string& name) const {
    for (const auto& library : libraries) {
        if (name == library->info().name) return library;
    }
    return nullptr;
}

std::string PluginCatalog::names(PluginSlot slot) const {
    std::string out;
    for (const auto& library : libraries) {
        if (!slotAccepts(slot, library->info().kind)) continue;
        if (!out.empty()) out += ", ";
        out += library->info().name;
    }
    return out.empty() ? "none" : out;
}

FoundPlugin findPlugin(const std::vector<std::string>& directories, const std::string& name) {
    // The config refuses such names already; the same rule here keeps a name from ever
    // becoming a path, whoever calls.
    if (!isPluginName(name)) return {nullptr, "\"" + name + "\" is not a plugin name"};
    std::vector<std::string> candidates;
    for (const auto& dir : directories) {
        for (const std::string& file : {"latchkey-" + name + ".so", name + ".so"}) {
            std::error_code ec;
            const fs::path path = fs::path(dir) / file;
            if (fs::is_regular_file(path, ec)) candidates.push_back(path.string());
        }
    }
    if (candidates.empty()) return {};
    if (candidates.size() > 1) {
        return {nullptr, "two plugins are named \"" + name + "\": " + candidates[0] + " and " +
                             candidates[1]};
    }
    FoundPlugin found;
    try {
        found.library = PluginLibrary::load(candidates.front());
    } catch (const PluginLoadError& e) {
        return {nullptr, e.what()};
    }
    if (found.library->info().name != name) {
        return {nullptr, candidates.front() + " holds the plugin \"" + found.library->info().name +
                             "\", not \"" + name +
                             "\" (a plugin's file is latchkey-<its name>.so)"};
    }
    return found;
}

PluginCatalog scanPlugins(const std::vector<std::string>& directories) {
    PluginCatalog catalog;
    std::vector<std::string> files;
    for (const auto& dir : directories) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            catalog.problems.push_back(dir + ": plugin directory does not exist");
            continue;
        }
        std::vector<std::string> found;
        for (const auto& item : fs::directory_iterator(dir, ec)) {
            if (item.path().extension() == ".so" && item.is_regular_file(ec)) {
                found.push_back(item.path().string());
            }
        }
        std::sort(found.begin(), found.end());
        files.insert(files.end(), found.begin(), found.end());
    }
    std::map<std::string, std::string> firstFileOf;
    for (const auto& file : files) {
        std::shared_ptr<PluginLibrary> library;
        try {
            library = PluginLibrary::load(file);
        } catch (const PluginLoadError& e) {
            catalog.problems.emplace_back(e.what());
            continue;
        }
        const std::string name = library->info().name;
        const std::string stem = fs::path(file).stem().string();
        if (stem != "latchkey-" + name && stem != name) {
            catalog.problems.push_back(file + " holds the plugin \"" + name +
                                       "\", but `serve` looks for it as latchkey-" + name +
                                       ".so (rename the file)");
        }
        const auto [it, inserted] = firstFileOf.emplace(name, file);
        if (!inserted) {
            catalog.problems.push_back("two plugins are named \"" + name + "\": " + it->second +
                                       " and " + file);
            continue;
        }
        catalog.libraries.push_back(std::move(library));
    }
    return catalog;
}

} // namespace latchkey::runtime
