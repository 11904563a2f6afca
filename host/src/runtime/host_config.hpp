// The host's own settings, read and validated from the config tree, and the plugins it names.
#pragma once

#include "core/cached_storage.hpp"
#include "core/login_throttle.hpp"
#include "runtime/client_address.hpp"

#include <latchkey/plugin.hpp>
#include <latchkey/support/config_reader.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::runtime {

/// One lane of request workers (docs/configuration.md, `server.lanes`).
struct LaneSettings {
    int threads = 0; ///< Worker threads; 0: the default for the lane.
    int queue = 0;   ///< Complete requests waiting for a worker (then 503); 0: the default.
};

/// How the HTTP server listens, holds connections and schedules work.
/// Where GET /metrics is served when not on the main listener: `server.metrics_listen`.
struct MetricsListen {
    std::string host;
    std::uint16_t port = 0; ///< 0 picks a free port (tests).
};

struct ServerSettings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080; ///< 0 picks a free port (tests).
    std::string publicUrl;     ///< Base URL for links; derived from listen if unset.
    bool metrics = true;       ///< Serve GET /metrics (Prometheus text format).
    /// Serve it there only (the main listener then answers 404); nullopt: on the main listener.
    std::optional<MetricsListen> metricsListen;
    int ioThreads = 1;                     ///< Network threads holding the connections.
    int threads = 16;                      ///< Standard lane: worker threads.
    int queue = 256;                       ///< Standard lane: requests waiting for a worker.
    LaneSettings hashing;                  ///< Password hashing; defaults from the number of cores.
    LaneSettings outbound{16, 64};         ///< Calls to other servers (social login).
    std::size_t maxConnections = 10000;    ///< Open connections at most (all clients).
    std::size_t maxConnectionsPerIp = 256; ///< Per client address; 0: no per-address cap.
    bool keepAlive = true;
    std::chrono::milliseconds keepAliveTimeout{5000};
    int maxKeepAliveRequests = 1000;
    std::uint64_t maxBodyBytes = 1 << 20;    ///< Larger request bodies get 413.
    std::uint64_t maxBodyMemory = 256 << 20; ///< Bodies held at once, all connections together.
    std::size_t maxHeaderBytes = 16 << 10;   ///< Larger request heads get 431.
    std::size_t maxHeaders = 100;            ///< More header fields get 431.
    std::chrono::milliseconds headerTimeout{10000};  ///< A whole head must arrive in this (408).
    std::chrono::milliseconds requestTimeout{30000}; ///< A whole body must arrive in this (408).
    std::uint64_t bodyMinRate = 1024; ///< Bytes/s a body must average after header_timeout.
    std::chrono::milliseconds writeTimeout{30000}; ///< An answer must be taken in this.
    std::chrono::milliseconds shedPause{50};       ///< After a 503 shed, the connection waits this.
    std::chrono::milliseconds drainTimeout{30000}; ///< How long shutdown waits for requests.
    /// Peers whose Forwarded / X-Forwarded-For is believed (`trusted_proxies`).
    TrustedProxies trustedProxies;
};

/// Where the host's secret key (for sealing and looking up API/user/account keys) comes from.
struct SecretSettings {
    std::string key;     ///< 64 hex characters given inline (normally via ${VAR}); or
    std::string keyFile; ///< a file holding it, created with a fresh key if missing.
};

/// The administrator account created at start-up when it does not exist yet.
struct AdminSettings {
    std::string email;    ///< Empty: no bootstrap.
    std::string password; ///< Required when email is set; never defaulted.
};

/// Files uploaded into profile `file` fields (kept in the store).
struct FileSettings {
    std::uint64_t maxSize = 1 << 20; ///< Largest file accepted; at most server.max_body.
};

/// Calls to other servers (social providers): `outbound:`.
struct OutboundSettings {
    std::string caFile;                       ///< Empty: the system's trust store.
    std::uint64_t maxResponseBytes = 1 << 20; ///< Larger answers are an error.
};

/// Per-host caches of the store's hot reads: `cache:`.
using CacheSettings = core::CacheSettings;

/// How log lines are written: `logging.format`.
enum class LogFormat : std::uint8_t {
    Text, ///< `2026-12-04T10:00:00.123Z info  [latchkey] message`
    Json, ///< One JSON object per line (JsonLogFormatter).
};

/// Log output.
struct LoggingSettings {
    std::string level = "info";
    bool accessLog = true;
    LogFormat format = LogFormat::Text; ///< `format`: text, or one JSON object per line.
};

/// Where in the config a plugin is named, which decides the kinds it may be.
enum class PluginSlot {
    Storage, ///< `storage.driver`: a storage plugin.
    Mailer,  ///< `mailer.driver`: a mailer.
    Auth,    ///< A key of `auth:`: a hasher or a flow.
    Social,  ///< A key of `auth.social:`: a social backend.
    Events,  ///< A key of `events:`: an event sink.
};

/// Whether `name` can name a plugin: letters, digits, '-', '_' and '.', starting with a letter
/// or digit, at most 64. Its file is `latchkey-<name>.so` in a plugin directory, so it must not
/// be able to name a path ("../x", "/tmp/x"); `latchkey.` is the host's own namespace (the
/// core's key/values).
bool isPluginName(std::string_view name) noexcept;

/// Whether a plugin of `kind` may be named in `slot`.
bool slotAccepts(PluginSlot slot, PluginKind kind) noexcept;
/// What the slot holds, for messages ("storage", "hasher or flow").
const char* slotName(PluginSlot slot) noexcept;

/// One plugin the config asks for, with the node it gets.
struct PluginUse {
    std::string name;   ///< Plugin name ("sqlite").
    PluginSlot slot;    ///< Where the config names it.
    ConfigValue nameAt; ///< Where the name was written (for errors).
    ConfigValue node;   ///< The plugin's own settings (the slot minus host keys).
    /// A social backend's settings for one instance (`auth.social.<name>.instances.<instance>`
    /// over the host-wide ones); empty for every other use, and for host-wide settings.
    std::string instance;
};

/// Everything the host reads from the config file.
struct HostConfig {
    std::string file;      ///< The config file as given.
    std::string directory; ///< Its directory, absolute: relative paths are resolved against it.
    ServerSettings server;
    SecretSettings secrets;
    AdminSettings admin;
    LoggingSettings logging;
    FileSettings files;
    OutboundSettings outbound;
    CacheSettings cache;
    core::ThrottleSettings throttle;      ///< `login_throttle:`.
    std::vector<std::string> pluginPaths; ///< Absolute directories searched for plugins.
    std::vector<PluginUse> plugins;       ///< In file order: storage, mailer, auth, social.
};

/// Reads the host's sections from `root`, recording every problem in `errors`. `file` is the
/// config file's path; `defaultPluginDir` is used when `plugins.paths` is absent.
HostConfig readHostConfig(const ConfigValue& root, const std::string& file,
                          const std::string& defaultPluginDir, ConfigErrors& errors);

/// `path` resolved against `directory` unless already absolute.
std::string resolveAgainst(const std::string& directory, const std::string& path);

} // namespace latchkey::runtime
