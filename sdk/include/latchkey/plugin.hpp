// ABI: what every plugin library exports (its stamp and its entry), the Plugin base with its one
// interface query, and the LATCHKEY_PLUGIN macro that writes both for a plugin class.
#pragma once

#include <latchkey/config_errors.hpp>
#include <latchkey/config_value.hpp>
#include <latchkey/version.hpp>

#include <cstdint>
#include <iterator>
#include <string_view>
#include <utility>

#if defined(__GNUC__)
#define LATCHKEY_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define LATCHKEY_PLUGIN_EXPORT
#endif

namespace latchkey {

class PluginContext;

/// What a plugin is for. The kind decides where the config names the plugin, when the host
/// creates it (in this order: storage, mailer, event sink, hasher, flow, social) and which
/// interface the host asks its object for (see `kindInterface`). Values are never reused; 3 was
/// SDK 1's "credential", split into Hasher and Flow in 2.0.
enum class PluginKind : std::uint32_t {
    Storage = 1, ///< Keeps the identity core's data (`storage.driver`).
    Mailer = 2,  ///< Sends mail (`mailer.driver`).
    Social = 4,  ///< Verifies a social provider's tokens (`auth.social.<name>`).
    Hasher = 5,  ///< Hashes and verifies passwords, and states the password policy (`auth.<name>`).
    Flow = 6,    ///< Mounts routes of a login flow of its own (`auth.<name>`).
    EventSink = 7, ///< Takes events somewhere (`events.<name>`; since SDK 2.5).
};

/// The kind's name as written in listings and messages ("storage", "hasher", ...).
inline const char* kindName(PluginKind kind) noexcept {
    switch (kind) {
    case PluginKind::Storage: return "storage";
    case PluginKind::Mailer: return "mailer";
    case PluginKind::Social: return "social";
    case PluginKind::EventSink: return "event sink";
    case PluginKind::Hasher: return "hasher";
    case PluginKind::Flow: return "flow";
    }
    return "unknown";
}

/// Static facts about a plugin, readable without creating it.
struct PluginInfo {
    const char* name;        ///< Unique name the config uses ("sqlite", "facebook").
    PluginKind kind;         ///< What the plugin provides.
    const char* version;     ///< The plugin's own version ("1.2.0").
    const char* description; ///< One line for `latchkey plugins`.
    const char* posture; ///< Status and what it trusts, e.g. "stable; trusts the database file".
};

/// Base of every plugin object. The host reaches the plugin's interfaces (Mailer, Flow, ...)
/// only through `provide`, so a new interface or a new version of one never changes this class.
class Plugin {
public:
    virtual ~Plugin() = default;
    /// This object as the interface named `id` in `version`, or nullptr when it does not
    /// implement exactly that version. `id` and `version` are an interface's `kInterfaceId` and
    /// `kInterfaceVersion`. The host asks at start, never per request. Implement it with
    /// `Provides<...>` rather than by hand.
    virtual void* provide(std::string_view id, std::uint32_t version) noexcept = 0;
};

/// `plugin` as `Interface` (a class with `kInterfaceId` and `kInterfaceVersion`), or nullptr.
template <class Interface>
Interface* provided(Plugin& plugin) noexcept {
    return static_cast<Interface*>(
        plugin.provide(Interface::kInterfaceId, Interface::kInterfaceVersion));
}

/// Derive a plugin class from `Provides<Interface...>` to implement each interface and have
/// `provide` answer for all of them: `class MyMailer final : public Provides<Mailer> {...}`.
template <class... Interfaces>
class Provides : public Plugin, public Interfaces... {
public:
    void* provide(std::string_view id, std::uint32_t version) noexcept override {
        void* found = nullptr;
        static_cast<void>((((found = match<Interfaces>(id, version)) != nullptr) || ...));
        return found;
    }

private:
    template <class Interface>
    void* match(std::string_view id, std::uint32_t version) noexcept {
        if (id != Interface::kInterfaceId || version != Interface::kInterfaceVersion)
            return nullptr;
        return static_cast<Interface*>(this);
    }
};

/// Reads and checks a plugin's config node, recording every problem in `errors`, and returns
/// the settings it read (owned by the caller, released with FreeSettingsFn), even when there
/// were problems. The host runs it once per use of the plugin in the config (a social backend
/// with per-instance settings is one use host-wide and one per instance, each created with its
/// own settings); `check-config` stops after it.
using ReadSettingsFn = void* (*)(const ConfigValue& config, ConfigErrors& errors);
/// Releases what ReadSettingsFn returned.
using FreeSettingsFn = void (*)(void* settings) noexcept;
/// Creates the plugin object from the settings ReadSettingsFn returned without problems (it may
/// move from them); may throw (the host reports it and does not start).
using CreateFn = Plugin* (*)(PluginContext& context, void* settings);

/// A list of interface names (`kInterfaceId`s), as an entry states them.
struct InterfaceList {
    const char* const* names; ///< `count` names, or nullptr when there are none.
    std::uint32_t count;      ///< How many.
};

/// What `latchkey_plugin_entry()` returns. It can grow within a major version: a later minor
/// defines fields in `reserved` (zero in older plugins, so zero always means "not given"), and
/// `size` tells the host how much of the structure the plugin knew.
struct PluginEntry {
    std::uint32_t size;          ///< sizeof(PluginEntry) in the SDK the plugin was built with.
    std::uint32_t flags;         ///< Zero; bits a later minor defines.
    PluginInfo info;             ///< Static facts.
    ReadSettingsFn readSettings; ///< Reads the config node.
    FreeSettingsFn freeSettings; ///< Releases what readSettings returned.
    CreateFn create;             ///< Factory.
    /// The storage facets the plugin uses (PluginContext::storage()): the host refuses to start
    /// when the driver lacks one, and hands a plugin no facet it did not name here.
    InterfaceList storageFacets;
    const void* reserved[8]; ///< Zero; room for fields a later 2.x minor adds.
};

/// Symbol names the host looks up.
inline constexpr const char* kAbiSymbol = "latchkey_plugin_abi";
/// See kAbiSymbol.
inline constexpr const char* kEntrySymbol = "latchkey_plugin_entry";

namespace detail {
template <class T>
void* readPluginSettings(const ConfigValue& config, ConfigErrors& errors) {
    return new typename T::Settings(T::readSettings(config, errors));
}
template <class T>
void freePluginSettings(void* settings) noexcept {
    delete static_cast<typename T::Settings*>(settings);
}
template <class T>
Plugin* createPlugin(PluginContext& context, void* settings) {
    return new T(context, std::move(*static_cast<typename T::Settings*>(settings)));
}
template <class T>
constexpr InterfaceList storageFacetsOf() noexcept {
    if constexpr (requires { T::kStorageFacets; }) {
        return {T::kStorageFacets, static_cast<std::uint32_t>(std::size(T::kStorageFacets))};
    } else {
        return {nullptr, 0};
    }
}
} // namespace detail

} // namespace latchkey

/// Exports a plugin. `PluginClass` derives from `latchkey::Provides<Interface>` (Mailer,
/// PasswordHasher, Flow, SocialBackend, Store: the interface of its kind, and any others it
/// implements) and has:
/// - `using Settings = ...;`, a movable type holding what its config says;
/// - `static Settings readSettings(const latchkey::ConfigValue&, latchkey::ConfigErrors&);`,
///   which records every problem (use ConfigReader) and is the only place the node is read;
/// - a constructor `PluginClass(latchkey::PluginContext&, Settings)`;
/// - if it uses storage facets (flows that keep sessions or tokens), `static constexpr const
///   char* kStorageFacets[] = {latchkey::Sessions::kInterfaceId, ...};`.
/// `Kind` is one of Storage, Mailer, Hasher, Flow, Social. Use it once per library, at file scope.
#define LATCHKEY_PLUGIN(PluginClass, Name, Kind, Version, Description, Posture)                    \
    extern "C" LATCHKEY_PLUGIN_EXPORT const ::latchkey::AbiStamp latchkey_plugin_abi =             \
        ::latchkey::kThisAbi;                                                                      \
    extern "C" LATCHKEY_PLUGIN_EXPORT const ::latchkey::PluginEntry*                               \
    latchkey_plugin_entry() noexcept {                                                             \
        static const ::latchkey::PluginEntry entry{                                                \
            sizeof(::latchkey::PluginEntry),                                                       \
            0,                                                                                     \
            {Name, ::latchkey::PluginKind::Kind, Version, Description, Posture},                   \
            &::latchkey::detail::readPluginSettings<PluginClass>,                                  \
            &::latchkey::detail::freePluginSettings<PluginClass>,                                  \
            &::latchkey::detail::createPlugin<PluginClass>,                                        \
            ::latchkey::detail::storageFacetsOf<PluginClass>(),                                    \
            {}};                                                                                   \
        return &entry;                                                                             \
    }
