// Loading plugin libraries in-process: each fixture's failure, and the object/library lifetime.
#include "runtime/host_router.hpp"
#include "runtime/plugin_loader.hpp"
#include "runtime/services.hpp"
#include "support/host_process.hpp"
#include "support/temp_dir.hpp"

#include <latchkey/flow.hpp>
#include <latchkey/identities.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/version.hpp>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

#include <cstdio>
#include <filesystem>

using namespace latchkey;
using namespace latchkey::runtime;
using latchkey::test::fixtureDir;

namespace {

/// "major.minor" of this host's SDK, and of the next minor.
std::string sdkVersion(int minorAhead = 0) {
    return std::to_string(LATCHKEY_SDK_VERSION_MAJOR) + "." +
           std::to_string(LATCHKEY_SDK_VERSION_MINOR + minorAhead);
}

std::string onlySo(const std::string& dir) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".so") return entry.path().string();
    }
    FAIL("no .so in " << dir);
    return {};
}

std::string loadError(const std::string& fixture) {
    try {
        PluginLibrary::load(onlySo(fixtureDir(fixture)));
    } catch (const PluginLoadError& e) {
        return e.what();
    }
    return "loaded";
}

std::shared_ptr<spdlog::logger> quietLog() {
    return std::make_shared<spdlog::logger>("test",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

struct ContextFixture {
    SystemClock clock;
    SodiumRandom random;
    HostContext make() {
        return HostContext(
            PluginIdentity{"test", {}}, quietLog(), clock, random,
            ServiceLocator{
                [] { return nullptr; }, [] { return nullptr; }, [] { return nullptr; },
                [](std::string_view) -> InstanceRecord {
                    throw std::runtime_error("no instances here");
                },
                []() -> SealedKey { throw std::runtime_error("none"); },
                []() -> OutboundHttp& { throw std::runtime_error("no outbound calls here"); },
                []() -> Identities& { throw std::runtime_error("no identities here"); }},
            "http://localhost", "/");
    }
};

/// The plugin of `library` created the way the host does it: settings read once, then created.
std::shared_ptr<Plugin> create(const std::shared_ptr<PluginLibrary>& library,
                               PluginContext& context, const ConfigValue& config = {}) {
    ConfigErrors errors;
    const PluginSettings settings = PluginLibrary::readSettings(library, config, errors);
    REQUIRE(errors.empty());
    return createPlugin(library, context, settings);
}

} // namespace

TEST_CASE("A good plugin loads and tells its name, kind and SDK version", "[loader]") {
    const auto library = PluginLibrary::load(onlySo(fixtureDir("good")));
    CHECK(std::string(library->info().name) == "fixture-good");
    CHECK(library->info().kind == PluginKind::Flow);
    CHECK(library->sdkVersion() == sdkVersion());
}

TEST_CASE("Each broken library is refused with a message naming the file", "[loader]") {
    // The wrong-ABI fixtures abort if their entry is called: getting a message at all shows the
    // stamp is checked before any plugin code runs.
    const std::string wrongMajor = loadError("wrong-abi");
    CHECK_THAT(wrongMajor, Catch::Contains(fixtureDir("wrong-abi")) &&
                               Catch::Contains("built for Latchkey SDK 99.0") &&
                               Catch::Contains("this host has SDK " + sdkVersion()));
    CHECK_THAT(
        loadError("newer-minor"),
        Catch::Contains("SDK " + sdkVersion(1) + ", newer than this host's SDK " + sdkVersion()));
    CHECK_THAT(loadError("missing-entry"), Catch::Contains("no latchkey_plugin_entry function"));
    // An entry smaller than SDK 2.0's (the smallest a 2.x host reads) is incomplete.
    CHECK_THAT(loadError("small-entry"),
               Catch::Contains("fixture-small-entry.so: latchkey_plugin_entry returned an "
                               "incomplete entry"));
    CHECK_THAT(loadError("not-a-plugin"), Catch::Contains("not a Latchkey plugin"));
    CHECK_THAT(loadError("unresolved"),
               Catch::Contains("undefined symbol: latchkey_fixture_function_nobody_defines"));
    CHECK_THAT(loadError("old-abi"),
               Catch::Contains("C++ library ABI \"libstdc++/cxx98/ptr8\"") &&
                   Catch::Contains("this host uses \"libstdc++/cxx11/ptr8\""));
}

TEST_CASE("Two libraries claiming one name are both named", "[loader]") {
    const std::string a = fixtureDir("duplicate") + "/a";
    const std::string b = fixtureDir("duplicate") + "/b";
    const PluginCatalog catalog = scanPlugins({a, b});
    REQUIRE(catalog.problems.size() == 1);
    CHECK_THAT(catalog.problems[0], Catch::Contains("two plugins are named \"fixture-dup\"") &&
                                        Catch::Contains(a + "/fixture-dup.so") &&
                                        Catch::Contains(b + "/fixture-dup.so"));
    CHECK(catalog.libraries.size() == 1);
    // Looking for one name finds both files too, and loads neither.
    CHECK_THAT(findPlugin({a, b}, "fixture-dup").problem,
               Catch::Contains("two plugins are named \"fixture-dup\""));
    CHECK(findPlugin({a, b}, "fixture-dup").library == nullptr);
    CHECK(findPlugin({a}, "fixture-dup").library != nullptr);
    CHECK(findPlugin({a}, "fixture-nothing").library == nullptr);
    CHECK(findPlugin({a}, "fixture-nothing").problem.empty());
    const PluginCatalog missing = scanPlugins({"/nonexistent/plugins"});
    REQUIRE(missing.problems.size() == 1);
    CHECK_THAT(missing.problems[0], Catch::Contains("does not exist"));
}

TEST_CASE("A factory that throws, or lies about its kind, is reported", "[loader]") {
    ContextFixture fixture;
    HostContext context = fixture.make();
    CHECK_THROWS_WITH(create(PluginLibrary::load(onlySo(fixtureDir("throws"))), context),
                      Catch::Contains("fixture-throws") &&
                          Catch::Contains("failed to start: fixture refuses to start"));
    CHECK_THROWS_WITH(create(PluginLibrary::load(onlySo(fixtureDir("wrong-kind"))), context),
                      Catch::Contains("says it is a storage plugin"));
}

TEST_CASE("A plugin object keeps its library loaded until it is destroyed", "[loader]") {
    latchkey::test::TempDir dir;
    const std::string trace = dir.file("trace");
    ConfigValue config(ConfigValue::Kind::Map, "", 1, 1);
    ConfigValue file(ConfigValue::Kind::Scalar, "trace_file", 1, 1);
    file.setScalar(trace);
    config.addEntry("trace_file", file);

    ContextFixture fixture;
    HostContext context = fixture.make();
    std::shared_ptr<Plugin> plugin;
    {
        auto library = PluginLibrary::load(onlySo(fixtureDir("good")));
        plugin = create(library, context, config);
    }
    // Every reference to the library is gone but the object's: its code must still be mapped.
    auto router = std::make_unique<HostRouter>(quietLog());
    REQUIRE(provided<Flow>(*plugin) != nullptr);
    provided<Flow>(*plugin)->mount(*router);
    Request request;
    request.method = "GET";
    request.path = "/fixture/hello";
    CHECK(router->dispatch(request).body == "{\"hello\": \"world\"}");
    CHECK(latchkey::test::readFile(trace) == "created\n");

    // The routes' handlers are code of the plugin too: they go before the object.
    router.reset();
    plugin.reset();
    CHECK(latchkey::test::readFile(trace) == "created\ndestroyed\nunloaded\n");
}

TEST_CASE("The ABI rule: same major, a minor no newer than the host's, the same C++ library",
          "[loader]") {
    const auto stamp = [](std::uint16_t major, std::uint16_t minor, const char* toolchain) {
        AbiStamp s{kAbiMagic, major, minor, {}};
        std::snprintf(s.toolchain, sizeof s.toolchain, "%s", toolchain);
        return s;
    };
    const AbiStamp host = stamp(1, 3, "libstdc++/cxx11/ptr8");
    // Minor versions only add: plugins built against 1.0 to 1.3 load into a 1.3 host.
    for (std::uint16_t minor = 0; minor <= 3; ++minor) {
        CHECK_NOTHROW(checkAbi("p.so", stamp(1, minor, "libstdc++/cxx11/ptr8"), host));
    }
    CHECK_THROWS_WITH(checkAbi("p.so", stamp(1, 4, "libstdc++/cxx11/ptr8"), host),
                      Catch::Contains("built for Latchkey SDK 1.4, newer than this host's SDK "
                                      "1.3"));
    CHECK_THROWS_WITH(checkAbi("p.so", stamp(2, 0, "libstdc++/cxx11/ptr8"), host),
                      Catch::Contains("the major versions must match"));
    CHECK_THROWS_WITH(checkAbi("p.so", stamp(0, 9, "libstdc++/cxx11/ptr8"), host),
                      Catch::Contains("the major versions must match"));
    CHECK_THROWS_WITH(checkAbi("p.so", stamp(1, 0, "libstdc++/cxx98/ptr8"), host),
                      Catch::Contains("built with C++ library ABI \"libstdc++/cxx98/ptr8\""));
    CHECK_THROWS_WITH(checkAbi("p.so", stamp(1, 0, "libc++/v1/ptr8"), host),
                      Catch::Contains("this host uses \"libstdc++/cxx11/ptr8\""));
    AbiStamp garbage = stamp(1, 0, "libstdc++/cxx11/ptr8");
    garbage.magic = 0x12345678;
    CHECK_THROWS_WITH(checkAbi("p.so", garbage, host), Catch::Contains("not a Latchkey ABI stamp"));
}

TEST_CASE("A plugin's settings are read once and released by the plugin's own code", "[loader]") {
    const auto library = PluginLibrary::load(onlySo(fixtureDir("validating")));
    ConfigErrors errors;
    ConfigValue config(ConfigValue::Kind::Map, "", 1, 1);
    ConfigValue repeat(ConfigValue::Kind::Scalar, "repeat", 1, 1);
    repeat.setScalar("11");
    config.addEntry("repeat", repeat);
    PluginSettings settings = PluginLibrary::readSettings(library, config, errors);
    // Every problem is recorded, and what was read is still handed back (to be released).
    CHECK(settings != nullptr);
    REQUIRE(errors.issues().size() == 2);
    CHECK_THAT(errors.issues()[0].message + errors.issues()[1].message,
               Catch::Contains("is required") && Catch::Contains("must be between 1 and 10"));
    // The settings keep the library loaded: releasing them after the library handle runs the
    // plugin's own deleter, which must still be mapped.
    std::weak_ptr<PluginLibrary> weak = library;
    const_cast<std::shared_ptr<PluginLibrary>&>(library).reset();
    CHECK_FALSE(weak.expired());
    settings.reset();
    CHECK(weak.expired());
}

namespace {

struct Greeter {
    static constexpr std::string_view kInterfaceId = "test.greeter";
    static constexpr std::uint32_t kInterfaceVersion = 2;
    virtual ~Greeter() = default;
    virtual std::string greet() = 0;
};

class TwoInterfaces final : public Provides<Greeter, Flow> {
public:
    std::string greet() override { return "hello"; }
    void mount(Router&) override {}
};

} // namespace

TEST_CASE("Plugin::provide answers each interface by name and exact version only", "[loader]") {
    TwoInterfaces object;
    Plugin& plugin = object;
    REQUIRE(provided<Greeter>(plugin) != nullptr);
    CHECK(provided<Greeter>(plugin)->greet() == "hello");
    CHECK(provided<Flow>(plugin) == static_cast<Flow*>(&object));
    CHECK(provided<Mailer>(plugin) == nullptr);
    CHECK(plugin.provide("test.greeter", 1) == nullptr); // an older version it does not have
    CHECK(plugin.provide("test.greeter", 3) == nullptr);
    CHECK(plugin.provide("test.greet", 2) == nullptr);
}
