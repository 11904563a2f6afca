// What every plugin library exports: its ABI stamp, its info, a config validator and a factory.
#pragma once

#include <latchkey/config.hpp>
#include <latchkey/version.hpp>

#include <cstdint>

#if defined(__GNUC__)
#define LATCHKEY_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define LATCHKEY_PLUGIN_EXPORT
#endif

namespace latchkey {

class PluginContext;
class Store;
class Mailer;
class CredentialPlugin;
class SocialBackend;

/// The four kinds of plugin the host knows.
enum class PluginKind : std::uint32_t {
    Storage = 1,    ///< Provides the Store of the identity core.
    Mailer = 2,     ///< Sends mail.
    Credential = 3, ///< Verifies a kind of credential and may mount routes (password, login-token).
    Social = 4,     ///< Verifies a social provider's access token.
};

/// The kind's name as written in configuration and listings.
inline const char* kindName(PluginKind kind) noexcept {
    switch (kind) {
    case PluginKind::Storage: return "storage";
    case PluginKind::Mailer: return "mailer";
    case PluginKind::Credential: return "credential";
    case PluginKind::Social: return "social";
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

/// Base of every plugin object. The host asks for the interface matching the plugin's kind.
class Plugin {
public:
    virtual ~Plugin() = default;
    /// This object as a Store, if it is one.
    virtual Store* asStore() noexcept { return nullptr; }
    /// This object as a Mailer, if it is one.
    virtual Mailer* asMailer() noexcept { return nullptr; }
    /// This object as a CredentialPlugin, if it is one.
    virtual CredentialPlugin* asCredential() noexcept { return nullptr; }
    /// This object as a SocialBackend, if it is one.
    virtual SocialBackend* asSocial() noexcept { return nullptr; }
};

/// Checks a plugin's own config node and records every problem; runs before anything is created.
using ValidateFn = void (*)(const ConfigValue& config, ConfigErrors& errors);
/// Creates the plugin object; may throw (the host reports it and does not start).
using CreateFn = Plugin* (*)(PluginContext& context);

/// What `latchkey_plugin_entry()` returns. Its layout is fixed within a major version.
struct PluginEntry {
    PluginInfo info;     ///< Static facts.
    ValidateFn validate; ///< Config validation.
    CreateFn create;     ///< Factory.
};

/// Symbol names the host looks up.
inline constexpr const char* kAbiSymbol = "latchkey_plugin_abi";
/// See kAbiSymbol.
inline constexpr const char* kEntrySymbol = "latchkey_plugin_entry";

namespace detail {
template <class T>
void validatePlugin(const ConfigValue& config, ConfigErrors& errors) {
    T::validate(config, errors);
}
template <class T>
Plugin* createPlugin(PluginContext& context) {
    return new T(context);
}
} // namespace detail

} // namespace latchkey

/// Exports a plugin. `PluginClass` derives from the kind's interface (Store, Mailer,
/// CredentialPlugin, SocialBackend), has a constructor taking `latchkey::PluginContext&` and a
/// `static void validate(const latchkey::ConfigValue&, latchkey::ConfigErrors&)`.
/// `Kind` is one of Storage, Mailer, Credential, Social. Use it once per library, at file scope.
#define LATCHKEY_PLUGIN(PluginClass, Name, Kind, Version, Description, Posture)                    \
    extern "C" LATCHKEY_PLUGIN_EXPORT const ::latchkey::AbiStamp latchkey_plugin_abi =             \
        ::latchkey::kThisAbi;                                                                      \
    extern "C" LATCHKEY_PLUGIN_EXPORT const ::latchkey::PluginEntry*                               \
    latchkey_plugin_entry() noexcept {                                                             \
        static const ::latchkey::PluginEntry entry{                                                \
            {Name, ::latchkey::PluginKind::Kind, Version, Description, Posture},                   \
            &::latchkey::detail::validatePlugin<PluginClass>,                                      \
            &::latchkey::detail::createPlugin<PluginClass>};                                       \
        return &entry;                                                                             \
    }
