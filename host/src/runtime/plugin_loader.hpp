// Finds plugin libraries, checks their ABI stamp before running any of their code, and creates
// plugin objects that keep their library loaded for as long as they live.
#pragma once

#include "runtime/host_config.hpp"

#include <latchkey/context.hpp>
#include <latchkey/plugin.hpp>

#include <boost/dll/shared_library.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::runtime {

class PluginLibrary;

/// What a plugin's readSettings returned; released by the plugin's own freeSettings, and keeps
/// its library loaded until then.
using PluginSettings = std::shared_ptr<void>;

/// A library that passed the ABI check. Destroying the last reference unloads it.
class PluginLibrary {
public:
    /// Loads `path` (rtld_now) and checks its stamp; throws PluginLoadError naming the file.
    static std::shared_ptr<PluginLibrary> load(const std::string& path);

    /// The file it was loaded from.
    const std::string& path() const noexcept { return path_; }
    /// Its static facts.
    const PluginInfo& info() const noexcept { return entry_->info; }
    /// The storage facets its entry says it uses (kStorageFacets).
    std::vector<std::string> storageFacets() const;
    /// The SDK version it was built against ("2.0").
    std::string sdkVersion() const;
    /// Runs the plugin's settings reader on its config node: every problem goes into `errors`,
    /// and what it read is kept for createPlugin (null when the reader threw).
    static PluginSettings readSettings(const std::shared_ptr<PluginLibrary>& library,
                                       const ConfigValue& config, ConfigErrors& errors);

private:
    PluginLibrary(std::string path, boost::dll::shared_library library, AbiStamp stamp,
                  const PluginEntry* entry);

    friend std::shared_ptr<Plugin> createPlugin(const std::shared_ptr<PluginLibrary>&,
                                                PluginContext&, const PluginSettings&);

    std::string path_;
    boost::dll::shared_library library_;
    AbiStamp stamp_;
    const PluginEntry* entry_;
};

/// A library that could not be loaded or checked; the message names the file.
class PluginLoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Calls the plugin's factory with the settings its reader returned (which it may move from).
/// The returned object keeps `library` loaded until it is destroyed. Throws PluginLoadError
/// when the factory throws or returns an object that lacks its kind's interface.
std::shared_ptr<Plugin> createPlugin(const std::shared_ptr<PluginLibrary>& library,
                                     PluginContext& context, const PluginSettings& settings);

/// The interface of `kind` (Store, Mailer, PasswordHasher, Flow, SocialBackend) in `object`, as
/// Plugin::provide answers it, or nullptr.
void* kindInterface(Plugin& object, PluginKind kind) noexcept;

/// Throws PluginLoadError unless a library stamped `stamp` may load into a host whose own stamp
/// is `host`: the same magic, the same major version, a minor no newer than the host's (older
/// minors load: minor versions only add), and the same C++ library ABI.
void checkAbi(const std::string& path, const AbiStamp& stamp, const AbiStamp& host = kThisAbi);

/// Every `.so` found in the plugin directories.
struct PluginCatalog {
    std::vector<std::shared_ptr<PluginLibrary>> libraries; ///< Loaded and checked.
    std::vector<std::string> problems; ///< One line per file that failed, or name clash.

    /// The library whose plugin is called `name`, or nullptr.
    std::shared_ptr<PluginLibrary> find(const std::string& name) const;
    /// The names of the plugins found that `slot` accepts, comma-separated (for "no plugin
    /// named X; found: ..."), or "none".
    std::string names(PluginSlot slot) const;
};

/// Loads every `*.so` in `directories` (missing directories are a problem too). Two libraries
/// claiming one name are both reported. For listing plugins, not for serving.
PluginCatalog scanPlugins(const std::vector<std::string>& directories);

/// What looking for one plugin by its file name found.
struct FoundPlugin {
    std::shared_ptr<PluginLibrary> library; ///< Loaded and checked; null if none or unusable.
    std::string problem; ///< Why a file that was found cannot be used; empty otherwise.
};

/// The library of the plugin `name`, loading no other: the file `latchkey-<name>.so` (or
/// `<name>.so`) in `directories`. Two such files, a file that cannot be loaded, and a file
/// holding another plugin are problems; no file at all is an empty result.
FoundPlugin findPlugin(const std::vector<std::string>& directories, const std::string& name);

} // namespace latchkey::runtime
