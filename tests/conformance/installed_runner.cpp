// Runs the storage conformance suite against one driver library built out of tree, with only the
// installed SDK: loads the library as the host does (the ABI stamp first), reads its settings,
// and creates it with a minimal context. `latchkey_add_storage_conformance()` (CMake) builds it
// and passes, in the environment:
//   LATCHKEY_CONFORMANCE_PLUGIN    the driver's .so
//   LATCHKEY_CONFORMANCE_SETTINGS  its settings, "key=value,key=value"; "{dir}" in a value is a
//                                  fresh directory for each store
//   LATCHKEY_CONFORMANCE_FACETS    the facet ids it must provide, comma-separated
#define CATCH_CONFIG_MAIN
#include "storage_conformance.hpp"

#include <latchkey/context.hpp>
#include <latchkey/identities.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/outbound_http.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/support/null_metrics.hpp>

#include <catch2/catch.hpp>
#include <dlfcn.h>
#include <sys/random.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace latchkey;

/// The variable `name`; `fallback` when it is unset or empty, or an error without one.
std::string environment(const char* name, const char* fallback = nullptr) {
    // Read before the suite starts threads.
    const char* value = std::getenv(name); // NOLINT(concurrency-mt-unsafe)
    if (value && *value) return value;
    if (fallback) return fallback;
    throw std::runtime_error(std::string(name) + " is not set");
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::string::size_type start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto end = comma == std::string::npos ? text.size() : comma;
        if (end > start) out.push_back(text.substr(start, end - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

/// A loaded library whose stamp this SDK accepts, and its entry.
struct Library {
    void* handle = nullptr;
    const PluginEntry* entry = nullptr;

    explicit Library(const std::string& path) {
        handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) throw std::runtime_error(path + ": cannot load: " + ::dlerror());
        try {
            check(path);
        } catch (...) {
            ::dlclose(handle);
            throw;
        }
    }
    ~Library() { ::dlclose(handle); }

    /// The stamp as data first (as the host does), then the entry.
    void check(const std::string& path) {
        const auto* stamp = static_cast<const AbiStamp*>(::dlsym(handle, kAbiSymbol));
        const auto toolchain = [](const AbiStamp& s) {
            return std::string(s.toolchain, ::strnlen(s.toolchain, sizeof s.toolchain));
        };
        if (!stamp || stamp->magic != kAbiMagic || stamp->major != kThisAbi.major ||
            stamp->minor > kThisAbi.minor || toolchain(*stamp) != toolchain(kThisAbi)) {
            throw std::runtime_error(path + ": no ABI stamp this SDK accepts");
        }
        auto* function = reinterpret_cast<const PluginEntry* (*)()>(::dlsym(handle, kEntrySymbol));
        entry = function ? function() : nullptr;
        if (!entry || entry->size < sizeof(PluginEntry) || !entry->readSettings ||
            !entry->freeSettings || !entry->create || entry->info.kind != PluginKind::Storage) {
            throw std::runtime_error(path + ": not a storage plugin entry of this SDK");
        }
    }
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

/// What a storage driver may use of the host while it is created: a logger, the clock, the
/// CSPRNG, paths, metrics that go nowhere. Nothing else exists for it.
class MinimalContext final : public PluginContext, private Logger, private Clock, private Random {
public:
    explicit MinimalContext(std::string dir) : dir_(std::move(dir)) {}

    Logger& logger() override { return *this; }
    const Clock& clock() const override { return *this; }
    Random& random() override { return *this; }
    KeyValueArea& values() override {
        throw std::logic_error("no key/value area while the storage plugin is created");
    }
    void* storageFacet(std::string_view, std::uint32_t) override { return nullptr; }
    Mailer* mailer() override { return nullptr; }
    PasswordHasher* passwordHasher() override { return nullptr; }
    std::string publicUrl() const override { return "http://localhost"; }
    std::string resolvePath(std::string_view path) const override {
        return !path.empty() && path.front() == '/' ? std::string(path)
                                                    : dir_ + "/" + std::string(path);
    }
    InstanceRecord ensureInstance(std::string_view) override {
        throw std::logic_error("a storage plugin creates no instances");
    }
    SealedKey newUserKey() override { throw std::logic_error("a storage plugin makes no keys"); }
    OutboundHttp& http() override { throw std::logic_error("a storage plugin calls no server"); }
    Identities& identities() override {
        throw std::logic_error("a storage plugin changes no users through the service");
    }
    Metrics& metrics() override { return metrics_; }

private:
    void log(LogLevel level, std::string_view message) override {
        if (level >= LogLevel::Warn) std::cerr << "driver: " << message << "\n";
    }
    bool enabled(LogLevel level) const override { return level >= LogLevel::Warn; }
    std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::now();
    }
    void fill(void* data, std::size_t size) override {
        auto* bytes = static_cast<unsigned char*>(data);
        while (size > 0) {
            const ssize_t n = ::getrandom(bytes, size, 0);
            if (n < 0) throw std::runtime_error("getrandom failed");
            bytes += n;
            size -= static_cast<std::size_t>(n);
        }
    }

    std::string dir_;
    NullMetrics metrics_; // the conformance suite reads none
};

/// The settings as the map node the driver's reader gets, with "{dir}" replaced by `dir`.
ConfigValue settingsNode(const std::string& settings, const std::string& dir) {
    ConfigValue node(ConfigValue::Kind::Map, "storage", 1, 1);
    for (const auto& pair : split(settings)) {
        const auto equals = pair.find('=');
        if (equals == std::string::npos) throw std::runtime_error("setting without '=': " + pair);
        const std::string key = pair.substr(0, equals);
        std::string value = pair.substr(equals + 1);
        for (auto at = value.find("{dir}"); at != std::string::npos; at = value.find("{dir}"))
            value.replace(at, 5, dir);
        ConfigValue scalar(ConfigValue::Kind::Scalar, "storage." + key, 1, 1);
        scalar.setScalar(value);
        node.addEntry(key, scalar);
    }
    return node;
}

/// A driver object with what it needs alive: its context and its library.
struct Opened {
    std::shared_ptr<Library> library;
    std::unique_ptr<MinimalContext> context;
    Plugin* plugin = nullptr;
    ~Opened() { delete plugin; } // the plugin's own virtual destructor, in its library
};

} // namespace

std::vector<latchkey::conformance::Driver> latchkey::conformance::driversUnderTest() {
    const std::string path = environment("LATCHKEY_CONFORMANCE_PLUGIN");
    const std::string settings = environment("LATCHKEY_CONFORMANCE_SETTINGS", "");
    const auto library = std::make_shared<Library>(path);
    const auto open = [library, settings](const std::string& dir) -> std::shared_ptr<Plugin> {
        ConfigErrors errors;
        const ConfigValue node = settingsNode(settings, dir);
        void* read = library->entry->readSettings(node, errors);
        if (!read) throw std::runtime_error("the driver's readSettings returned nothing");
        if (!errors.empty()) {
            library->entry->freeSettings(read);
            throw std::runtime_error(
                "the driver refuses its settings: " + errors.issues().front().path + ": " +
                errors.issues().front().message);
        }
        auto opened = std::make_shared<Opened>();
        opened->library = library;
        opened->context = std::make_unique<MinimalContext>(dir);
        try {
            opened->plugin = library->entry->create(*opened->context, read);
        } catch (...) {
            library->entry->freeSettings(read);
            throw;
        }
        library->entry->freeSettings(read);
        return {opened, opened->plugin};
    };
    return {{library->entry->info.name, open, split(environment("LATCHKEY_CONFORMANCE_FACETS"))}};
}
