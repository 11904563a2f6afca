// The host's own settings, read and validated from the config tree, and the plugins it names.
#include "runtime/host_config.hpp"

#include "core/instance_name.hpp"

#include <latchkey/support/config_reader.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace latchkey::runtime {

namespace fs = std::filesystem;

std::string resolveAgainst(const std::string& directory, const std::string& path) {
    if (path.empty()) return path;
    const fs::path p(path);
    if (p.is_absolute()) return p.lexically_normal().string();
    return (fs::path(directory) / p).lexically_normal().string();
}

namespace {

/// Reads `key` (host:port, [v6]:port) into `host` and `port`; false when it is absent or wrong
/// (the error is recorded).
bool readListen(ConfigReader& server, const char* key, std::string& host, std::uint16_t& port) {
    const ConfigValue* listen = server.child(key);
    if (!listen || listen->isNull()) return false;
    if (listen->kind() != ConfigValue::Kind::Scalar) {
        server.errors().add(*listen, "expected host:port");
        return false;
    }
    const std::string& text = listen->scalar();
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        server.errors().add(*listen, "expected host:port, got \"" + text + "\"");
        return false;
    }
    std::string name = text.substr(0, colon);
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);
    }
    const auto number = detail::parseInt(text.substr(colon + 1));
    if (!number || *number < 0 || *number > 65535) {
        server.errors().add(*listen,
                            "port must be 0-65535, got \"" + text.substr(colon + 1) + "\"");
        return false;
    }
    host = name;
    port = static_cast<std::uint16_t>(*number);
    return true;
}

void readServer(const ConfigValue& root, ConfigErrors& errors, ServerSettings& out) {
    static const ConfigValue empty;
    const ConfigValue* node = root.find("server");
    ConfigReader r(node ? *node : empty, errors);
    readListen(r, "listen", out.host, out.port);
    out.metrics = r.boolean("metrics", out.metrics);
    MetricsListen metricsAt;
    if (readListen(r, "metrics_listen", metricsAt.host, metricsAt.port)) {
        if (!out.metrics) {
            errors.add(*r.child("metrics_listen"), "server.metrics is false: nothing to serve");
        } else if (metricsAt.port != 0 && metricsAt.port == out.port &&
                   (metricsAt.host == out.host || metricsAt.host == "0.0.0.0" ||
                    out.host == "0.0.0.0" || metricsAt.host == "::" || out.host == "::")) {
            errors.add(*r.child("metrics_listen"), "must not be the address of server.listen");
        }
        out.metricsListen = metricsAt;
    }
    out.publicUrl = r.string("public_url");
    if (!out.publicUrl.empty() && out.publicUrl.rfind("http://", 0) != 0 &&
        out.publicUrl.rfind("https://", 0) != 0) {
        errors.add(*r.child("public_url"), "must start with http:// or https://");
    }
    while (!out.publicUrl.empty() && out.publicUrl.back() == '/')
        out.publicUrl.pop_back();
    out.ioThreads = static_cast<int>(r.integer("io_threads", out.ioThreads, 1, 64));
    out.threads = static_cast<int>(r.integer("threads", out.threads, 2, 4096));
    out.queue = static_cast<int>(r.integer("queue", out.queue, 1, 65536));
    if (const ConfigValue* lanes = r.child("lanes")) {
        ConfigReader l(*lanes, r.errors());
        const auto readLane = [&l](const char* name, LaneSettings& lane) {
            if (const ConfigValue* laneNode = l.child(name)) {
                ConfigReader n(*laneNode, l.errors());
                lane.threads = static_cast<int>(n.integer("threads", lane.threads, 1, 4096));
                lane.queue = static_cast<int>(n.integer("queue", lane.queue, 1, 65536));
                n.finish();
            }
        };
        readLane("hashing", out.hashing);
        readLane("outbound", out.outbound);
        l.finish();
    }
    out.maxConnections = static_cast<std::size_t>(
        r.integer("max_connections", static_cast<std::int64_t>(out.maxConnections), 16, 1000000));
    out.maxConnectionsPerIp = static_cast<std::size_t>(r.integer(
        "max_connections_per_ip", static_cast<std::int64_t>(out.maxConnectionsPerIp), 0, 1000000));
    out.keepAlive = r.boolean("keep_alive", out.keepAlive);
    using std::chrono::hours;
    using std::chrono::milliseconds;
    out.keepAliveTimeout =
        r.duration("keep_alive_timeout", out.keepAliveTimeout, milliseconds(100), hours(1));
    out.maxKeepAliveRequests = static_cast<int>(
        r.integer("max_keep_alive_requests", out.maxKeepAliveRequests, 1, 1000000));
    out.maxBodyBytes = r.bytes("max_body", out.maxBodyBytes, 1024, 1ULL << 30);
    out.maxBodyMemory = r.bytes("max_body_memory", out.maxBodyMemory, 1ULL << 20, 1ULL << 40);
    if (out.maxBodyMemory < out.maxBodyBytes) {
        const ConfigValue* at = r.child("max_body_memory");
        if (!at) at = r.child("max_body");
        if (at) errors.add(*at, "server.max_body_memory must be at least server.max_body");
    }
    out.maxHeaderBytes =
        static_cast<std::size_t>(r.bytes("max_header_size", out.maxHeaderBytes, 1024, 1ULL << 20));
    out.maxHeaders = static_cast<std::size_t>(
        r.integer("max_headers", static_cast<std::int64_t>(out.maxHeaders), 8, 10000));
    out.headerTimeout =
        r.duration("header_timeout", out.headerTimeout, milliseconds(100), hours(1));
    out.requestTimeout =
        r.duration("request_timeout", out.requestTimeout, milliseconds(100), hours(1));
    out.bodyMinRate = r.bytes("body_min_rate", out.bodyMinRate, 0, 1ULL << 30);
    out.writeTimeout = r.duration("write_timeout", out.writeTimeout, milliseconds(100), hours(1));
    out.shedPause = r.duration("shed_pause", out.shedPause, milliseconds(0), milliseconds(5000));
    if (out.shedPause >= out.keepAliveTimeout) {
        // A paused connection is idle: it would be closed before its pause ends.
        const ConfigValue* at = r.child("shed_pause");
        if (!at) at = r.child("keep_alive_timeout");
        if (at) errors.add(*at, "server.shed_pause must be shorter than keep_alive_timeout");
    }
    out.drainTimeout = r.duration("drain_timeout", out.drainTimeout, milliseconds(0), hours(1));
    std::vector<Network> proxies;
    if (const ConfigValue* list = r.child("trusted_proxies")) {
        const auto texts = r.strings("trusted_proxies");
        for (std::size_t i = 0; i < texts.size(); ++i) {
            std::string why;
            if (auto network = Network::parse(texts[i], why)) {
                proxies.push_back(*network);
            } else {
                errors.add(list->kind() == ConfigValue::Kind::Sequence ? list->items()[i] : *list,
                           why);
            }
        }
    }
    const std::string header = r.string("forwarded_header", "x-forwarded-for");
    ForwardedHeader forwarded = ForwardedHeader::XForwardedFor;
    if (header == "forwarded") {
        forwarded = ForwardedHeader::Forwarded;
    } else if (header != "x-forwarded-for") {
        errors.add(*r.child("forwarded_header"), "must be x-forwarded-for or forwarded");
    }
    out.trustedProxies = TrustedProxies(std::move(proxies), forwarded);
    r.finish();
}

void readSecrets(const ConfigValue& root, const std::string& dir, ConfigErrors& errors,
                 SecretSettings& out) {
    static const ConfigValue empty;
    const ConfigValue* node = root.find("secrets");
    ConfigReader r(node ? *node : empty, errors);
    out.key = r.string("key");
    out.keyFile = resolveAgainst(dir, r.string("key_file"));
    if (!out.key.empty() && !out.keyFile.empty()) {
        errors.add(*r.child("key"), "give either secrets.key or secrets.key_file, not both");
    }
    if (out.key.empty() && out.keyFile.empty()) {
        const std::string message =
            "set `key` (64 hex characters, e.g. from "
            "${LATCHKEY_SECRET_KEY}) or `key_file` (created on first start)";
        if (node)
            errors.add(*node, message);
        else
            errors.addUnder(root, "secrets", message);
    }
    if (!out.key.empty() && out.key.size() != 64) {
        errors.add(*r.child("key"), "must be 64 hex characters (32 bytes)");
    }
    r.finish();
}

void readAdmin(const ConfigValue& root, ConfigErrors& errors, AdminSettings& out) {
    static const ConfigValue empty;
    const ConfigValue* node = root.find("admin");
    ConfigReader r(node ? *node : empty, errors);
    out.email = r.string("email");
    out.password = r.string("password");
    if (!out.email.empty() && out.password.empty()) {
        errors.addUnder(node ? *node : root, "password",
                        "is required when admin.email is set (there is no default password)");
    }
    if (out.email.empty() && !out.password.empty()) {
        errors.addUnder(node ? *node : root, "email", "is required when admin.password is set");
    }
    r.finish();
}

void readFiles(const ConfigValue& root, const ServerSettings& server, ConfigErrors& errors,
               FileSettings& out) {
    static const ConfigValue empty;
    const ConfigValue* node = root.find("files");
    ConfigReader r(node ? *node : empty, errors);
    out.maxSize = r.bytes("max_size", std::min<std::uint64_t>(out.maxSize, server.maxBodyBytes), 1,
                          server.maxBodyBytes);
    r.finish();
}

void readOutbound(const ConfigValue& root, const std::string& directory, ConfigErrors& errors,
                  OutboundSettings& out) {
    static const ConfigValue empty;
    const ConfigValue* node = root.find("outbound");
    ConfigReader r(node ? *node : empty, errors);
    const std::string caFile = r.string("ca_file");
    if (!caFile.empty()) {
        out.caFile = resolveAgainst(directory, caFile);
        if (::access(out.caFile.c_str(), R_OK) != 0 || !fs::is_regular_file(out.caFile)) {
            errors.add(*r.child("ca_file"), "cannot read " + out.caFile);
        }
    }
    out.maxResponseBytes =
        r.bytes("max_response", out.maxResponseBytes, 1024, std::uint64_t{64} << 20);
    r.finish();
}

void readCache(const ConfigValue& root, ConfigErrors& errors, CacheSettings& out) {
    static const ConfigValue empty;
    const ConfigValue* node = root.find("cache");
    ConfigReader r(node ? *node : empty, errors);
    out.ttl = r.duration("ttl", std::chrono::duration_cast<std::chrono::milliseconds>(out.ttl),
                         std::chrono::milliseconds(0), std::chrono::seconds(60));
    out.maxBytes =
        r.bytes("max_memory", out.maxBytes, std::uint64_t{1} << 20, std::uint64_t{64} << 30);
    r.finish();
}

void readThrottle(const ConfigValue& root, ConfigErrors& errors, core::ThrottleSettings& out) {
    static const ConfigValue empty;
    const ConfigValue* node = root.find("login_throttle");
    ConfigReader r(node ? *node : empty, errors);
    using std::chrono::hours;
    using std::chrono::milliseconds;
    out.freeFailures = r.integer("free_failures", out.freeFailures, 1, 1000);
    out.firstDelay = r.duration("first_delay", out.firstDelay, milliseconds(10), hours(1));
    out.maxDelay = r.duration("max_delay", out.maxDelay, milliseconds(10), hours(24));
    out.accountLimit = r.integer("account_limit", out.accountLimit, 1, 100);
    out.accountInterval =
        r.duration("account_interval", out.accountInterval, milliseconds(10), hours(1));
    out.clientLimit = r.integer("client_limit", out.clientLimit, 1, 1000000);
    out.clientWindow = r.duration("client_window", out.clientWindow, milliseconds(10), hours(24));
    out.forget = r.duration("forget", out.forget, milliseconds(10), hours(24 * 365));
    out.knownFor = r.duration("known_for", out.knownFor, milliseconds(0), hours(24 * 365));
    out.maxEntries = static_cast<std::size_t>(
        r.integer("max_entries", static_cast<std::int64_t>(out.maxEntries), 1000, 100000000));
    out.sweepEvery = r.duration("sweep_every", out.sweepEvery, milliseconds(100), hours(24));
    r.finish();
}

void readLogging(const ConfigValue& root, ConfigErrors& errors, LoggingSettings& out) {
    static const ConfigValue empty;
    const ConfigValue* node = root.find("logging");
    ConfigReader r(node ? *node : empty, errors);
    out.level = r.string("level", out.level);
    if (out.level != "debug" && out.level != "info" && out.level != "warn" &&
        out.level != "error") {
        errors.add(*r.child("level"), "must be debug, info, warn or error");
    }
    out.accessLog = r.boolean("access_log", out.accessLog);
    const std::string format = r.string("format", "text");
    if (format == "json") {
        out.format = LogFormat::Json;
    } else if (format != "text") {
        errors.add(*r.child("format"), "must be text or json");
    }
    r.finish();
}

/// Records `use` if its name can be a plugin's, else a problem at the name.
void addUse(PluginUse use, ConfigErrors& errors, std::vector<PluginUse>& out) {
    if (!isPluginName(use.name)) {
        errors.add(use.nameAt, "\"" + use.name +
                                   "\" is not a plugin name (letters, digits, '-', '_' and '.', "
                                   "starting with a letter or digit)");
        return;
    }
    out.push_back(std::move(use));
}

/// A `{driver: NAME, ...}` slot: the plugin gets the node without `driver`.
void readDriverSlot(const ConfigValue& root, const char* section, PluginSlot slot,
                    ConfigErrors& errors, std::vector<PluginUse>& out) {
    const ConfigValue* node = root.find(section);
    if (!node || node->isNull()) {
        errors.addUnder(root, section, "is required (a map with a `driver` key)");
        return;
    }
    if (node->kind() != ConfigValue::Kind::Map) {
        errors.add(*node, "expected a map with a `driver` key");
        return;
    }
    const ConfigValue* driver = node->find("driver");
    if (!driver || driver->kind() != ConfigValue::Kind::Scalar || driver->scalar().empty()) {
        errors.addUnder(*node, "driver",
                        "is required (the name of a " + std::string(slotName(slot)) + " plugin)");
        return;
    }
    PluginUse use{driver->scalar(), slot, *driver, *node, {}};
    use.node.removeEntry("driver");
    addUse(std::move(use), errors, out);
}

/// One social backend's entry: its host-wide settings, unless it has only `instances`, and
/// one use per entry of `instances` (the host-wide keys with the instance's over them).
void readSocialBackend(const std::string& backend, const ConfigValue& settings,
                       ConfigErrors& errors, std::vector<PluginUse>& out) {
    const ConfigValue* instances = settings.find("instances");
    ConfigValue hostWide = settings;
    hostWide.removeEntry("instances");
    if (!instances || !hostWide.entries().empty()) {
        addUse({backend, PluginSlot::Social, settings, hostWide, {}}, errors, out);
        if (!instances) return;
    } else if (instances->isNull() ||
               (instances->kind() == ConfigValue::Kind::Map && instances->entries().empty())) {
        // Neither host-wide settings nor an instance: the backend would silently not exist.
        errors.add(*instances, "lists no instance, and " + backend +
                                   " has no host-wide settings: add one or the other, or "
                                   "remove " +
                                   backend);
        return;
    }
    if (instances->isNull()) return;
    if (instances->kind() != ConfigValue::Kind::Map) {
        errors.add(*instances, "expected a map of instance names to settings for them");
        return;
    }
    for (const auto& [instance, overrides] : instances->entries()) {
        if (!core::isInstanceName(instance)) {
            errors.add(overrides, "\"" + instance + "\" is not an instance name (" +
                                      core::kInstanceNameRule + ")");
            continue;
        }
        if (!overrides.isNull() && overrides.kind() != ConfigValue::Kind::Map) {
            errors.add(overrides,
                       "expected a map of " + backend + " settings for instance " + instance);
            continue;
        }
        // Problems with an inherited key are reported where it is written; a key missing from
        // both is reported under the instance.
        ConfigValue merged(ConfigValue::Kind::Map, overrides.path(), overrides.line(),
                           overrides.column());
        for (const auto& [key, value] : hostWide.entries()) {
            if (!overrides.find(key)) merged.addEntry(key, value);
        }
        for (const auto& [key, value] : overrides.entries())
            merged.addEntry(key, value);
        // Named where the backend is, so a missing plugin is one problem, not one per instance.
        addUse({backend, PluginSlot::Social, settings, std::move(merged), instance}, errors, out);
    }
}

/// `auth:` holds one entry per hasher or flow plugin and `social:` with one per social backend.
void readAuth(const ConfigValue& root, ConfigErrors& errors, std::vector<PluginUse>& out) {
    const ConfigValue* auth = root.find("auth");
    if (!auth || auth->isNull()) return;
    if (auth->kind() != ConfigValue::Kind::Map) {
        errors.add(*auth, "expected a map of hasher and flow plugins (and `social`)");
        return;
    }
    std::vector<PluginUse> social;
    for (const auto& [name, node] : auth->entries()) {
        if (name == "social") {
            if (node.isNull()) continue;
            if (node.kind() != ConfigValue::Kind::Map) {
                errors.add(node, "expected a map of social backends");
                continue;
            }
            for (const auto& [backend, settings] : node.entries())
                readSocialBackend(backend, settings, errors, social);
            continue;
        }
        addUse({name, PluginSlot::Auth, node, node, {}}, errors, out);
    }
    for (auto& use : social)
        out.push_back(std::move(use));
}

/// `events:`: a map of event sink plugins, each with its settings.
void readEvents(const ConfigValue& root, ConfigErrors& errors, std::vector<PluginUse>& out) {
    const ConfigValue* events = root.find("events");
    if (!events || events->isNull()) return;
    if (events->kind() != ConfigValue::Kind::Map) {
        errors.add(*events, "expected a map of event sink plugins");
        return;
    }
    for (const auto& [name, node] : events->entries())
        addUse({name, PluginSlot::Events, node, node, {}}, errors, out);
}

} // namespace

bool isPluginName(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || name.rfind("latchkey.", 0) == 0) return false;
    if (!std::isalnum(static_cast<unsigned char>(name.front()))) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                                  c == '_' || c == '.';
                       }) &&
           name.find("..") == std::string::npos;
}

bool slotAccepts(PluginSlot slot, PluginKind kind) noexcept {
    switch (slot) {
    case PluginSlot::Storage: return kind == PluginKind::Storage;
    case PluginSlot::Mailer: return kind == PluginKind::Mailer;
    case PluginSlot::Auth: return kind == PluginKind::Hasher || kind == PluginKind::Flow;
    case PluginSlot::Social: return kind == PluginKind::Social;
    case PluginSlot::Events: return kind == PluginKind::EventSink;
    }
    return false;
}

const char* slotName(PluginSlot slot) noexcept {
    switch (slot) {
    case PluginSlot::Storage: return "storage";
    case PluginSlot::Mailer: return "mailer";
    case PluginSlot::Auth: return "hasher or flow";
    case PluginSlot::Social: return "social";
    case PluginSlot::Events: return "event sink";
    }
    return "unknown";
}

HostConfig readHostConfig(const ConfigValue& root, const std::string& file,
                          const std::string& defaultPluginDir, ConfigErrors& errors) {
    HostConfig config;
    config.file = file;
    config.directory = fs::absolute(fs::path(file)).parent_path().lexically_normal().string();

    ConfigReader top(root, errors);
    top.allow({"server", "secrets", "admin", "logging", "files", "outbound", "plugins", "storage",
               "mailer", "auth", "cache", "login_throttle", "events"});

    readServer(root, errors, config.server);
    readSecrets(root, config.directory, errors, config.secrets);
    readAdmin(root, errors, config.admin);
    readLogging(root, errors, config.logging);
    readFiles(root, config.server, errors, config.files);
    readOutbound(root, config.directory, errors, config.outbound);
    readCache(root, errors, config.cache);
    readThrottle(root, errors, config.throttle);

    static const ConfigValue empty;
    const ConfigValue* pluginsNode = root.find("plugins");
    ConfigReader plugins(pluginsNode ? *pluginsNode : empty, errors);
    for (const auto& dir : plugins.strings("paths")) {
        config.pluginPaths.push_back(resolveAgainst(config.directory, dir));
    }
    plugins.finish();
    if (config.pluginPaths.empty()) config.pluginPaths.push_back(defaultPluginDir);

    readDriverSlot(root, "storage", PluginSlot::Storage, errors, config.plugins);
    readDriverSlot(root, "mailer", PluginSlot::Mailer, errors, config.plugins);
    readAuth(root, errors, config.plugins);
    readEvents(root, errors, config.plugins);
    top.finish();
    return config;
}

} // namespace latchkey::runtime
