// Wires a validated configuration into a running host and takes it down in the right order:
// drain the server, destroy plugin objects, then unload their libraries.
#include "runtime/application.hpp"

#include <latchkey/password_hasher.hpp>
#include <latchkey/support/json_writer.hpp>
#include <latchkey/support/text.hpp>
#include <latchkey/support/time.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#ifndef LATCHKEY_DEFAULT_PLUGIN_DIR
#define LATCHKEY_DEFAULT_PLUGIN_DIR "/usr/local/lib/latchkey/plugins"
#endif
#ifndef LATCHKEY_BIN_DIR_NAME
#define LATCHKEY_BIN_DIR_NAME "bin"
#endif
#ifndef LATCHKEY_PLUGIN_DIR_FROM_BIN
#define LATCHKEY_PLUGIN_DIR_FROM_BIN "../lib/latchkey/plugins"
#endif

namespace latchkey::runtime {

namespace {

/// True if `dir` and every directory above it up to `top` is owned by root or by us and
/// writable by nobody else: only then may its libraries be loaded into this process.
bool trustedDirectory(const std::filesystem::path& dir, const std::filesystem::path& top) {
    for (auto at = dir;; at = at.parent_path()) {
        struct stat info {};
        if (::stat(at.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return false;
        if (info.st_uid != 0 && info.st_uid != ::geteuid()) return false;
        if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) return false;
        if (at == top || at == at.parent_path()) return true;
    }
}

} // namespace

std::string defaultPluginDir() {
    // An installed tree may have been moved (or installed with another prefix than it was
    // configured with): the plugins beside the executable win over the configured path, but
    // only in an installed layout (the executable in a `bin` directory) whose directories
    // nobody else may write to: a build tree in /tmp must not make /tmp/lib/... a plugin
    // source for whoever creates it.
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.parent_path().filename() == LATCHKEY_BIN_DIR_NAME) {
        const auto prefix = exe.parent_path().parent_path();
        const auto besides = (exe.parent_path() / LATCHKEY_PLUGIN_DIR_FROM_BIN).lexically_normal();
        if (trustedDirectory(besides, prefix)) return besides.string();
    }
    return LATCHKEY_DEFAULT_PLUGIN_DIR;
}

std::string formatIssue(const std::string& file, const ConfigIssue& issue) {
    std::string out = file;
    if (issue.line > 0) {
        out += ":" + std::to_string(issue.line);
        if (issue.column > 0) out += ":" + std::to_string(issue.column);
    }
    out += ": ";
    if (!issue.path.empty()) out += issue.path + ": ";
    return out + issue.message;
}

LoadedConfig loadConfiguration(const std::string& file, const EnvLookup& env, ConfigErrors& errors,
                               PluginScan scan) {
    LoadedConfig loaded;
    const ConfigValue root = loadYamlFile(file, env, errors);
    if (!errors.empty()) return loaded;
    loaded.host = readHostConfig(root, file, defaultPluginDir(), errors);

    const ConfigValue* pluginsNode = root.find("plugins");
    const ConfigValue* paths = pluginsNode ? pluginsNode->find("paths") : nullptr;
    const ConfigValue& problemAt = paths ? *paths : (pluginsNode ? *pluginsNode : root);
    const auto pathProblem = [&](const std::string& problem) {
        errors.add(ConfigIssue{paths ? paths->path() : "plugins.paths", problemAt.line(),
                               problemAt.column(), problem});
    };
    if (scan == PluginScan::Everything) {
        loaded.catalog = scanPlugins(loaded.host.pluginPaths);
        for (const auto& problem : loaded.catalog.problems)
            pathProblem(problem);
    } else {
        for (const auto& dir : loaded.host.pluginPaths) {
            std::error_code ec;
            if (!std::filesystem::is_directory(dir, ec)) {
                pathProblem(dir + ": plugin directory does not exist");
            }
        }
    }

    std::string searched;
    for (const auto& dir : loaded.host.pluginPaths)
        searched += (searched.empty() ? "" : ", ") + dir;
    std::optional<PluginCatalog> listing; // only to name what is there when a name is not
    for (const auto& use : loaded.host.plugins) {
        SelectedPlugin selected{use, nullptr, nullptr};
        std::string problem;
        if (scan == PluginScan::Everything) {
            selected.library = loaded.catalog.find(use.name);
        } else if (auto known = loaded.catalog.find(use.name)) {
            selected.library = std::move(known); // a social backend with per-instance settings
        } else {
            FoundPlugin found = findPlugin(loaded.host.pluginPaths, use.name);
            selected.library = std::move(found.library);
            problem = std::move(found.problem);
            if (selected.library) loaded.catalog.libraries.push_back(selected.library);
        }
        if (!problem.empty()) {
            errors.add(use.nameAt, problem);
        } else if (!selected.library) {
            if (!listing) {
                listing = scan == PluginScan::Everything ? loaded.catalog
                                                         : scanPlugins(loaded.host.pluginPaths);
            }
            if (const auto misnamed = listing->find(use.name)) {
                errors.add(use.nameAt, "the plugin \"" + use.name + "\" is in " + misnamed->path() +
                                           ", but a plugin is found by its " +
                                           "file name: rename it latchkey-" + use.name + ".so");
            } else {
                errors.add(use.nameAt, "no plugin named \"" + use.name + "\" in " + searched +
                                           " (" + slotName(use.slot) +
                                           " plugins found: " + listing->names(use.slot) + ")");
            }
        } else if (!slotAccepts(use.slot, selected.library->info().kind)) {
            errors.add(use.nameAt, "plugin \"" + use.name + "\" is a " +
                                       kindName(selected.library->info().kind) + " plugin, not " +
                                       slotName(use.slot));
            selected.library.reset();
        } else {
            selected.settings = PluginLibrary::readSettings(selected.library, use.node, errors);
        }
        loaded.selected.push_back(std::move(selected));
    }
    // Creation order: a plugin sees the kinds before its own (flows use the hasher and the
    // mailer; everything uses the store).
    const auto rank = [](const SelectedPlugin& p) {
        if (!p.library) return 9;
        switch (p.library->info().kind) {
        case PluginKind::Storage: return 0;
        case PluginKind::Mailer: return 1;
        // Before the plugins that publish (a flow's first super user), destroyed after them.
        case PluginKind::EventSink: return 2;
        case PluginKind::Hasher: return 3;
        case PluginKind::Flow: return 4;
        case PluginKind::Social: return 5;
        }
        return 9;
    };
    std::stable_sort(loaded.selected.begin(), loaded.selected.end(),
                     [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    const SelectedPlugin* hasher = nullptr;
    for (const auto& selected : loaded.selected) {
        if (!selected.library || selected.library->info().kind != PluginKind::Hasher) continue;
        if (hasher) {
            errors.add(selected.use.nameAt, "plugin \"" + selected.use.name +
                                                "\" is a hasher, and so is \"" + hasher->use.name +
                                                "\": configure only one");
        }
        hasher = &selected;
    }
    if (!hasher && errors.empty()) {
        const ConfigValue* auth = root.find("auth");
        errors.add(auth ? *auth : root,
                   "no hasher plugin is configured: add `password:` under `auth:`");
    }
    return loaded;
}

Application::Application(LoadedConfig config, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)), log_(std::move(log)), events_(clock_, random_, log_) {}

Application::~Application() {
    stop();
}

void Application::createPlugins(PluginSet which) {
    const HostConfig& host = config_.host;
    ServiceLocator services{
        [this]() -> const StorageFacets* { return storage_ ? &*storage_ : nullptr; },
        [this] { return mailer_; },
        [this] { return hasher_; },
        [this](std::string_view name) { return ensureInstance(name); },
        [this] { return vault_->issue(core::KeyPurpose::UserKey, random_).second; },
        [this]() -> OutboundHttp& { return *outbound_; },
        [this]() -> Identities& {
            if (!identities_) throw std::logic_error("the identity service exists from mount on");
            return *identities_;
        },
        [this]() -> EventPublisher& { return events_; }};
    outbound_ = std::make_unique<PocoOutboundHttp>(host.outbound);
    // loadConfiguration sorted them into creation order and refused a second hasher.
    for (const SelectedPlugin& selected : config_.selected) {
        const PluginUse& use = selected.use;
        const PluginKind kind = selected.library->info().kind;
        if ((which == PluginSet::StorageAndHasher && kind != PluginKind::Storage &&
             kind != PluginKind::Hasher) ||
            (which == PluginSet::Storage && kind != PluginKind::Storage))
            continue;
        ServiceLocator own = services;
        if (metrics_) {
            countedOutbound_.push_back(
                std::make_unique<CountedOutboundHttp>(*outbound_, *metrics_, use.name));
            own.http = [counted = countedOutbound_.back().get()]() -> OutboundHttp& {
                return *counted;
            };
        }
        contexts_.push_back(std::make_unique<HostContext>(
            PluginIdentity{use.name, selected.library->storageFacets()},
            makeLogger(use.name, host.logging.level, host.logging.format), clock_, random_,
            std::move(own), publicUrl_, host.directory,
            metrics_ ? metrics_->forPlugin(use.name) : nullptr));
        std::shared_ptr<Plugin> plugin;
        try {
            plugin = createPlugin(selected.library, *contexts_.back(), selected.settings);
        } catch (const PluginLoadError& e) {
            throw StartupError(e.what());
        }
        void* interface = kindInterface(*plugin, kind); // createPlugin checked it is there
        switch (kind) {
        case PluginKind::Storage:
            // Everyone (the core, and plugins through their declared facets) reads through
            // the same caches, so a write through this host is seen by its next read.
            cachedStorage_ = std::make_unique<core::CachedStorage>(*plugin, host.cache);
            storage_.emplace(*cachedStorage_);
            // Before any other plugin exists, so none starts on a driver that cannot serve it.
            checkStorageFacets();
            break;
        case PluginKind::Mailer: mailer_ = static_cast<Mailer*>(interface); break;
        case PluginKind::Hasher:
            // Everyone else gets it through the lane guard: hashing on a standard-lane worker
            // is capped at a quarter of those workers.
            guardedHasher_ = std::make_unique<LaneGuardedHasher>(
                *static_cast<PasswordHasher*>(interface),
                static_cast<std::size_t>(std::max(1, host.server.threads / 4)));
            hasher_ = guardedHasher_.get();
            break;
        case PluginKind::Flow: flows_.push_back(static_cast<Flow*>(interface)); break;
        case PluginKind::Social:
            social_.add(use.name, use.instance, *static_cast<SocialBackend*>(interface));
            break;
        case PluginKind::EventSink: events_.add(*static_cast<EventSink*>(interface)); break;
        }
        log_->info("plugin {} {} ({}) ready{}", use.name, selected.library->info().version,
                   kindName(kind), use.instance.empty() ? "" : " for instance " + use.instance);
        plugins_.push_back(std::move(plugin));
    }
    // The settings were for creation only: release them while their libraries are loaded.
    for (SelectedPlugin& selected : config_.selected)
        selected.settings.reset();
    for (const auto& plugin : plugins_) {
        if (auto* listener = provided<UserEventListener>(*plugin)) listeners_.push_back(listener);
        if (auto* guard = provided<UserChangeGuard>(*plugin)) guards_.push_back(guard);
    }
}

void Application::checkStorageFacets() const {
    const SelectedPlugin& driver = config_.selected.front(); // sorted: storage comes first
    // What the identity core itself uses, and who else needs what.
    std::vector<std::pair<std::string, std::vector<std::string>>> needs{
        {"the identity core (the v1.1 API)",
         {KeyValues::kInterfaceId, Accounts::kInterfaceId, Instances::kInterfaceId,
          ApiKeys::kInterfaceId, Users::kInterfaceId, Groups::kInterfaceId, Classes::kInterfaceId,
          Files::kInterfaceId}}};
    std::set<std::string> socialNamed;
    for (const SelectedPlugin& selected : config_.selected) {
        // A backend with per-instance settings is one use per instance, and one need.
        if (selected.library->info().kind == PluginKind::Social &&
            socialNamed.insert(selected.use.name).second) {
            needs.push_back({"social login (auth.social." + selected.use.name + ")",
                             {SocialIdentities::kInterfaceId}});
        }
        if (auto declared = selected.library->storageFacets(); !declared.empty()) {
            for (const auto& id : declared) {
                if (!declarableFacet(id)) {
                    throw StartupError("plugin " + selected.use.name +
                                       " declares the storage facet " + id +
                                       ", which no plugin may use (a plugin has its own "
                                       "key/value area: PluginContext::values())");
                }
            }
            needs.emplace_back("plugin " + selected.use.name, std::move(declared));
        }
    }
    std::string problems;
    for (const auto& [who, facets] : needs) {
        for (const auto& facet : storage_->missing(facets)) {
            problems += (problems.empty() ? "" : "; ") + facet + ", which " + who + " needs";
        }
    }
    if (!problems.empty()) {
        throw StartupError("storage driver \"" + driver.use.name + "\" (" + driver.library->path() +
                           ") lacks the storage facet " + problems +
                           "; use a driver that has it, or leave out what needs it");
    }
}

void Application::announce(const UserEvent& event) {
    // Every listener hears it, whatever another one does. The change is stored already: when a
    // listener fails, the client gets 503 and may repeat the request, which announces again
    // (a password set again ends the sessions a failed listener left).
    std::string failed;
    for (UserEventListener* listener : listeners_) {
        try {
            listener->onUserEvent(event);
        } catch (const std::exception& e) {
            log_->error("a plugin failed on user event {} (instance {}, user {}): {}",
                        static_cast<std::uint32_t>(event.kind), event.instanceId, event.userId,
                        e.what());
            failed = e.what();
        } catch (...) {
            log_->error("a plugin failed on user event {} with an unknown exception",
                        static_cast<std::uint32_t>(event.kind));
            failed = "unknown exception";
        }
    }
    if (std::optional<Event> published = EventHub::fromUserEvent(event))
        events_.publish(std::move(*published));
    if (!failed.empty()) {
        throw Unavailable("the change is stored, but a plugin could not act on it: " + failed);
    }
}

std::optional<std::string> Application::guard(const UserEvent& proposed) const {
    for (std::size_t i = 0; i < guards_.size(); ++i) {
        std::optional<std::string> reason;
        try {
            reason = guards_[i]->refuseChange(proposed);
        } catch (...) {
            for (std::size_t j = 0; j < i; ++j)
                guards_[j]->changeFinished(proposed);
            throw;
        }
        if (reason) {
            for (std::size_t j = 0; j < i; ++j)
                guards_[j]->changeFinished(proposed);
            return reason;
        }
    }
    return std::nullopt;
}

void Application::guardDone(const UserEvent& proposed) const {
    for (UserChangeGuard* guard : guards_)
        guard->changeFinished(proposed);
}

InstanceRecord Application::ensureInstance(std::string_view wanted) {
    const std::string name = asciiLower(wanted);
    if (auto existing = storage_->instances().findInstance(name)) return *existing;
    const std::string& email = config_.host.admin.email;
    std::optional<AccountRecord> owner;
    if (!email.empty()) {
        owner = storage_->accounts().findAccountByEmail(asciiLower(email));
    }
    if (!owner) {
        throw std::runtime_error("instance \"" + name +
                                 "\" does not exist and no administrator account (admin.email) "
                                 "is configured to own it; create it with POST /v1.1/instances/");
    }
    InstanceRecord instance;
    instance.name = name;
    instance.ownerId = owner->id;
    instance.createdAt = instance.updatedAt = nowMicros(clock_);
    try {
        instance = storage_->instances().createInstance(instance);
        log_->info("created instance {} for a plugin", name);
        return instance;
    } catch (const Conflict&) {
        return *storage_->instances().findInstance(name); // created by another host meanwhile
    }
}

void Application::mountRoutes() {
    router_->add("GET", "/healthz",
                 [](const Request&) { return Response::json(200, "{\"status\": \"ok\"}"); });
    router_->add("GET", "/readyz", [this](const Request&) {
        storage_->driver().ping();
        return Response::json(200, "{\"status\": \"ready\"}");
    });
    core_->mount(*router_);
    router_->allowInline("GET", "/healthz");
    for (const auto& [method, pattern] : core::IdentityCore::inlineRoutes())
        router_->allowInline(method, pattern);
    for (Flow* flow : flows_) {
        try {
            flow->mount(*router_);
        } catch (const std::logic_error&) {
            throw; // a route clash: reported as such by start()
        } catch (const std::exception& e) {
            throw StartupError(std::string("a flow plugin could not start: ") + e.what());
        }
    }
}

void Application::mountMetrics() {
    HostRouter& router = metricsRouter_ ? *metricsRouter_ : *router_;
    router.add("GET", "/metrics", [metrics = metrics_.get()](const Request&) {
        Response response;
        response.contentType = std::string(HostMetrics::kContentType);
        response.body = metrics->scrape();
        return response;
    });
    // Counted by route index from here on: every route exists now.
    metrics_->prepareRoutes(router_->routeList());
    server_->countInto(*metrics_);

    using Type = SampledMetric::Type;
    LaneGuardedHasher* hasher = guardedHasher_.get();
    core::CachedStorage* caches = cachedStorage_.get();
    if (!hasher || !caches) return; // loadConfiguration() insists on both
    metrics_->addSampled({"latchkey_password_hashes_in_flight",
                          "Password hashes and checks waiting for or running in the hasher.",
                          Type::Gauge, [hasher]() -> std::vector<MetricSample> {
                              return {{{}, static_cast<double>(hasher->inFlight())}};
                          }});
    metrics_->addSampled({"latchkey_password_hashes_shed_total",
                          "Password hashes and checks refused (503): the hasher was full.",
                          Type::Counter, [hasher]() -> std::vector<MetricSample> {
                              return {{{}, static_cast<double>(hasher->shed())}};
                          }});
    const auto perCache = [caches](std::uint64_t core::CacheStats::*field) {
        return [caches, field]() -> std::vector<MetricSample> {
            const core::StorageCacheStats s = caches->stats();
            const std::pair<const char*, const core::CacheStats*> all[] = {
                {"instances", &s.instances},    {"api_keys", &s.apiKeys},
                {"users_by_key", &s.users},     {"users_by_id", &s.usersById},
                {"user_states", &s.userStates}, {"classes", &s.classes},
                {"sessions", &s.sessions},      {"values", &s.values}};
            std::vector<MetricSample> samples;
            for (const auto& [name, stats] : all)
                samples.push_back({{{"cache", name}}, static_cast<double>(stats->*field)});
            return samples;
        };
    };
    metrics_->addSampled({"latchkey_cache_hits_total",
                          "Reads answered from the host's caches of the store, by cache.",
                          Type::Counter, perCache(&core::CacheStats::hits)});
    metrics_->addSampled({"latchkey_cache_misses_total",
                          "Reads the caches had nothing live for (read from the store), by cache.",
                          Type::Counter, perCache(&core::CacheStats::misses)});
    metrics_->addSampled({"latchkey_cache_refreshes_total",
                          "Live entries read again ahead of their expiry, by cache.", Type::Counter,
                          perCache(&core::CacheStats::refreshes)});
    metrics_->addSampled({"latchkey_cache_refused_total",
                          "Reads not kept because a write invalidated them meanwhile, by cache.",
                          Type::Counter, perCache(&core::CacheStats::refused)});
}

void Application::openVault() {
    const HostConfig& host = config_.host;
    try {
        const core::KeyVault::Secret secret =
            host.secrets.key.empty()
                ? core::KeyVault::loadOrCreateSecretFile(host.secrets.keyFile, random_)
                : core::KeyVault::parseSecret(host.secrets.key);
        vault_ = std::make_unique<core::KeyVault>(secret);
    } catch (const std::exception& e) {
        throw StartupError(std::string("secrets: ") + e.what());
    }
}

void Application::openCore(bool throttled) {
    const HostConfig& host = config_.host;
    if (throttled) {
        throttleValues_ = std::make_unique<BoundKeyValues>(
            "latchkey.throttle", [this]() -> const StorageFacets* { return &*storage_; });
        throttle_ =
            std::make_unique<core::LoginThrottle>(*throttleValues_, host.throttle, clock_, log_);
    }
    const auto announceEvent = [this](const UserEvent& e) { announce(e); };
    const core::AuthEventObserver observe = [this,
                                             metrics = metrics_.get()](const core::AuthEvent& e) {
        if (metrics)
            metrics->countAuthEvent(HostRouter::currentApi(), e.event, e.outcome, e.reason);
        if (events_.empty()) return;
        if (std::optional<Event> event = EventHub::fromAuthEvent(e)) events_.publish(*event);
    };
    const auto publish = [this](Event e) { events_.publish(std::move(e)); };
    identities_ = std::make_unique<core::IdentityService>(
        core::IdentityParts{*storage_, *hasher_, *vault_, clock_, random_, log_, announceEvent,
                            [this](const UserEvent& e) { return guard(e); },
                            [this](const UserEvent& e) { guardDone(e); },
                            [this](std::string_view name) { return ensureInstance(name); },
                            throttle_.get(), observe, publish});
    core::CoreServices services{
        *storage_, *identities_, *hasher_,           *vault_, clock_,       random_,
        log_,      publicUrl_,   host.files.maxSize, social_, announceEvent};
    services.throttle = throttle_.get();
    services.observeAuthEvent = observe;
    services.publish = publish;
    core_ = std::make_unique<core::IdentityCore>(std::move(services));
    try {
        core_->checkSecret();
    } catch (const std::exception& e) {
        throw StartupError(e.what());
    }
}

void Application::openForAdministration() {
    openVault();
    publicUrl_ = config_.host.server.publicUrl;
    createPlugins(PluginSet::StorageAndHasher);
    openCore(false);
}

void Application::openStore() {
    publicUrl_ = config_.host.server.publicUrl;
    createPlugins(PluginSet::Storage);
}

StorageBackup* Application::storageBackup() {
    if (!storage_) return nullptr;
    return static_cast<StorageBackup*>(
        storage_->find(StorageBackup::kInterfaceId, StorageBackup::kInterfaceVersion));
}

core::IdentityCore& Application::identityCore() {
    if (!core_) throw std::logic_error("the identity core exists once the host is open");
    return *core_;
}

void Application::start() {
    const HostConfig& host = config_.host;
    openVault();

    // Bind first: with port 0 the public URL is only known once the port is.
    router_ = std::make_unique<HostRouter>(log_);
    server_ = std::make_unique<HttpServer>(
        host.server, *router_, log_,
        host.logging.accessLog ? makeLogger("access", "info", host.logging.format) : nullptr);
    try {
        server_->bind();
    } catch (const std::exception& e) {
        throw StartupError("cannot listen on " + host.server.host + ":" +
                           std::to_string(host.server.port) + ": " + e.what());
    }
    if (host.server.metrics) metrics_ = std::make_unique<HostMetrics>();
    if (host.server.metricsListen) {
        // Scrapes only: two workers, a short queue, no access log, nothing counted.
        ServerSettings own = host.server;
        own.host = host.server.metricsListen->host;
        own.port = host.server.metricsListen->port;
        own.threads = 2;
        own.queue = 16;
        own.hashing = LaneSettings{1, 1};
        own.outbound = LaneSettings{1, 1};
        own.maxConnections = 64;
        metricsRouter_ = std::make_unique<HostRouter>(log_);
        metricsServer_ = std::make_unique<HttpServer>(own, *metricsRouter_, log_, nullptr);
        try {
            metricsServer_->bind();
        } catch (const std::exception& e) {
            throw StartupError("cannot listen on " + own.host + ":" + std::to_string(own.port) +
                               " (server.metrics_listen): " + e.what());
        }
    }
    publicUrl_ = host.server.publicUrl;
    if (publicUrl_.empty()) {
        publicUrl_ = host.server.host == "0.0.0.0" || host.server.host == "::"
                         ? "http://localhost:" + std::to_string(port())
                         : listenUrl();
    }

    createPlugins(PluginSet::All);
    openCore(true);
    try {
        if (!host.admin.email.empty()) {
            core_->bootstrapAdmin(host.admin.email, host.admin.password);
        } else {
            log_->warn("admin.email is not set: no administrator account is created at start");
        }
    } catch (const std::exception& e) {
        throw StartupError(e.what());
    }

    try {
        mountRoutes();
        if (metrics_) mountMetrics();
    } catch (const std::logic_error& e) {
        throw StartupError(std::string("routes: ") + e.what());
    }
    server_->start();
    if (metricsServer_) metricsServer_->start();
    if (metrics_) log_->info("metrics on {}", metricsUrl());
}

std::uint16_t Application::port() const {
    return server_ ? server_->port() : 0;
}

namespace {

/// "http://host:port", an IPv6 host in brackets.
std::string httpUrl(const std::string& host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

} // namespace

std::string Application::listenUrl() const {
    return httpUrl(config_.host.server.host, port());
}

std::string Application::metricsUrl() const {
    if (!metrics_) return {};
    if (!metricsServer_) return listenUrl() + "/metrics";
    return httpUrl(config_.host.server.metricsListen->host, metricsServer_->port()) + "/metrics";
}

bool Application::stop() {
    bool drained = true;
    // First: it reads what is taken down below.
    if (metricsServer_) {
        metricsServer_->stop(std::chrono::milliseconds(0));
        metricsServer_.reset();
    }
    if (server_) {
        drained = server_->stop(config_.host.server.drainTimeout);
        server_.reset();
    }
    if (throttle_) throttle_->stop(); // a sweep in progress ends before the store goes
    if (cachedStorage_) {
        // No refresh may reach the driver once the plugins begin to go.
        cachedStorage_->stopRefreshing();
        const core::StorageCacheStats s = cachedStorage_->stats();
        const auto line = [](const core::CacheStats& c) {
            return std::to_string(c.hits) + "/" + std::to_string(c.misses) + "/" +
                   std::to_string(c.refreshes) + "/" + std::to_string(c.refused);
        };
        log_->info("caches (hits/misses/refreshes/refused): instances {}, api keys {}, users by "
                   "key {}, users by id {}, user states {}, classes {}, sessions {}, values {}",
                   line(s.instances), line(s.apiKeys), line(s.users), line(s.usersById),
                   line(s.userStates), line(s.classes), line(s.sessions), line(s.values));
    }
    // Handlers hold references into the core and the plugins: drop them first.
    router_.reset();
    core_.reset();
    flows_.clear();
    social_.clear();
    listeners_.clear();
    guards_.clear();
    mailer_ = nullptr;
    hasher_ = nullptr;
    // Their gauges call into them: no scrape runs now, but none may find one after.
    if (metrics_) {
        for (const auto& context : contexts_)
            metrics_->dropGauges(context->pluginName());
    }
    // Newest first: later plugins may use earlier ones, and their destructors may still use the
    // storage (a flow draining its queued mail reads its key/value area).
    while (!plugins_.empty()) {
        // The sinks come before every plugin that publishes: from the first one on, no event
        // has anywhere to go (and the sinks' destructors deliver what they hold).
        if (provided<EventSink>(*plugins_.back())) events_.clear();
        plugins_.pop_back();
    }
    // After the plugins: a flow's destructor may still finish queued work through it (a
    // lost-password mail looks its member up). Its guards and listeners are gone by now.
    identities_.reset();
    storage_.reset();
    cachedStorage_.reset();
    guardedHasher_.reset();
    contexts_.clear();
    countedOutbound_.clear();
    metricsRouter_.reset();
    metrics_.reset();
    // The catalog's references go last; each library unloads when its last object is gone.
    config_.selected.clear();
    config_.catalog = PluginCatalog{};
    return drained;
}

} // namespace latchkey::runtime
