// The YAML loader (positions, ${VAR} expansion), the SDK's ConfigReader and the host's sections.
#include "runtime/host_config.hpp"
#include "runtime/yaml_loader.hpp"

#include <latchkey/support/config_reader.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace latchkey;
using namespace latchkey::runtime;

namespace {

EnvLookup fakeEnv(const std::map<std::string, std::string>& vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::string messages(const ConfigErrors& errors) {
    std::string out;
    for (const auto& issue : errors.issues()) {
        out += std::to_string(issue.line) + ":" + issue.path + ": " + issue.message + "\n";
    }
    return out;
}

} // namespace

TEST_CASE("YAML nodes keep their key path and 1-based line", "[config]") {
    ConfigErrors errors;
    const auto root =
        parseYaml("server:\n  listen: 1.2.3.4:80\nlist:\n  - a\n  - b\n", fakeEnv({}), errors);
    REQUIRE(errors.empty());
    const ConfigValue* server = root.find("server");
    REQUIRE(server);
    const ConfigValue* listen = server->find("listen");
    REQUIRE(listen);
    CHECK(listen->path() == "server.listen");
    CHECK(listen->line() == 2);
    CHECK(listen->scalar() == "1.2.3.4:80");
    const ConfigValue* list = root.find("list");
    REQUIRE(list);
    const auto& items = list->items();
    REQUIRE(items.size() == 2);
    CHECK(items[1].path() == "list[1]");
    CHECK(items[1].line() == 5);
}

TEST_CASE("YAML syntax errors and duplicate keys are reported with their line", "[config]") {
    ConfigErrors errors;
    parseYaml("a: [1, 2\n", fakeEnv({}), errors);
    REQUIRE(errors.issues().size() == 1);
    CHECK(errors.issues()[0].message.find("YAML syntax") == 0);

    ConfigErrors dup;
    parseYaml("a: 1\nb: 2\na: 3\n", fakeEnv({}), dup);
    REQUIRE(dup.issues().size() == 1);
    CHECK(dup.issues()[0].line == 3);
    CHECK(dup.issues()[0].message == "duplicate key \"a\"");

    ConfigErrors notMap;
    parseYaml("- just\n- a list\n", fakeEnv({}), notMap);
    REQUIRE_FALSE(notMap.empty());
}

TEST_CASE("${VAR} and ${VAR:-default} expand from the environment", "[config]") {
    const auto env = fakeEnv({{"HOST", "example.org"}, {"EMPTY", ""}});
    const ConfigValue at(ConfigValue::Kind::Scalar, "x", 1, 1);
    ConfigErrors errors;
    CHECK(expandEnvironment("${HOST}:80", env, at, errors) == "example.org:80");
    CHECK(expandEnvironment("${MISSING:-fallback}", env, at, errors) == "fallback");
    CHECK(expandEnvironment("${EMPTY:-fallback}", env, at, errors) == "fallback");
    CHECK(expandEnvironment("${MISSING:-}", env, at, errors).empty());
    CHECK(expandEnvironment("cost $$5 and $HOME", env, at, errors) == "cost $5 and $HOME");
    CHECK(errors.empty());

    expandEnvironment("${MISSING}", env, at, errors);
    expandEnvironment("${1BAD}", env, at, errors);
    expandEnvironment("${OPEN", env, at, errors);
    REQUIRE(errors.issues().size() == 3);
    CHECK(errors.issues()[0].message == "environment variable MISSING is not set");
    CHECK(errors.issues()[0].path == "x");
}

TEST_CASE("ConfigReader reads typed values and reports every problem", "[config]") {
    ConfigErrors errors;
    const auto root = parseYaml("n: 12\nbad_n: twelve\nflag: yes\nttl: 24h\nsize: 2MiB\n"
                                "list: [a, b]\nmin_lenght: 3\nbig: 99\nblank:\n",
                                fakeEnv({}), errors);
    REQUIRE(errors.empty());
    ConfigReader r(root, errors);
    CHECK(r.integer("n", 0) == 12);
    CHECK(r.integer("bad_n", 7) == 7);
    CHECK(r.boolean("flag", false));
    CHECK(r.duration("ttl", {}) == std::chrono::hours(24));
    CHECK(r.bytes("size", 0) == std::uint64_t{2} * 1024 * 1024);
    CHECK(r.strings("list") == std::vector<std::string>{"a", "b"});
    CHECK(r.integer("min_length", 8) == 8);
    CHECK(r.integer("big", 1, 1, 10) == 1);
    CHECK(r.requiredString("absent").empty());
    CHECK(r.requiredString("blank").empty()); // `blank:` with no value is not a value
    r.finish();
    const std::string all = messages(errors);
    CHECK(all.find("2:bad_n: expected a whole number, got \"twelve\"") != std::string::npos);
    CHECK(all.find("8:big: must be between 1 and 10, got 99") != std::string::npos);
    CHECK(all.find("absent: is required") != std::string::npos);
    CHECK(all.find("9:blank: must not be empty") != std::string::npos);
    CHECK(all.find("7:min_lenght: unknown key \"min_lenght\" (did you mean \"min_length\"?)") !=
          std::string::npos);
}

TEST_CASE("Durations and sizes parse with units and refuse garbage", "[config]") {
    CHECK(parseDuration("1500ms") == std::chrono::milliseconds(1500));
    CHECK(parseDuration("30") == std::chrono::seconds(30));
    CHECK(parseDuration("10m") == std::chrono::minutes(10));
    CHECK(parseDuration("7d") == std::chrono::hours(24 * 7));
    CHECK_FALSE(parseDuration("ten seconds"));
    CHECK_FALSE(parseDuration("-5s"));
    CHECK_FALSE(parseDuration("99999999999999999999s"));
    CHECK(parseBytes("64KiB") == 64u * 1024);
    CHECK(parseBytes("1MB") == 1000u * 1000);
    CHECK(parseBytes("512") == 512u);
    CHECK_FALSE(parseBytes("1 lot"));
}

TEST_CASE("The host config lists plugins in creation order and strips host keys", "[config]") {
    ConfigErrors errors;
    const auto root =
        parseYaml("secrets: {key_file: s.key}\n"
                  "storage: {driver: sqlite, path: x.db}\n"
                  "mailer: {driver: outbox, dir: out}\n"
                  "auth:\n  social:\n    facebook: {app_id: '1'}\n  password: {min_length: 10}\n",
                  fakeEnv({}), errors);
    const HostConfig config =
        readHostConfig(root, "/etc/latchkey/latchkey.yaml", "/plugins", errors);
    INFO(messages(errors));
    REQUIRE(errors.empty());
    REQUIRE(config.plugins.size() == 4);
    CHECK(config.plugins[0].name == "sqlite");
    CHECK(config.plugins[0].node.find("driver") == nullptr);
    CHECK(config.plugins[0].node.find("path") != nullptr);
    CHECK(config.plugins[1].name == "outbox");
    CHECK(config.plugins[2].name == "password");
    CHECK(config.plugins[2].slot == PluginSlot::Auth);
    CHECK(config.plugins[3].name == "facebook");
    CHECK(config.plugins[3].slot == PluginSlot::Social);
    CHECK(config.secrets.keyFile == "/etc/latchkey/s.key");
    CHECK(config.pluginPaths == std::vector<std::string>{"/plugins"});
    CHECK(config.server.publicUrl.empty()); // derived from the bound port at start
}

TEST_CASE("A social backend's instances get the host-wide settings with their own over them",
          "[config]") {
    ConfigErrors errors;
    const auto root = parseYaml("secrets: {key_file: s.key}\n"
                                "storage: {driver: sqlite, path: x.db}\n"
                                "mailer: {driver: outbox, dir: out}\n"
                                "auth:\n"
                                "  password: {}\n"
                                "  social:\n"
                                "    facebook:\n"
                                "      app_id: '1'\n"
                                "      app_secret: one\n"
                                "      instances:\n"
                                "        shop-one: {app_id: '2', app_secret: two}\n"
                                "        shop-two: {timeout: 2s}\n"
                                "    twitter:\n"
                                "      instances:\n"
                                "        shop-one: {consumer_key: k}\n",
                                fakeEnv({}), errors);
    const HostConfig config = readHostConfig(root, "/etc/latchkey/l.yaml", "/plugins", errors);
    INFO(messages(errors));
    REQUIRE(errors.empty());
    REQUIRE(config.plugins.size() == 7); // storage, mailer, password, facebook x3, twitter
    const auto scalar = [](const PluginUse& use, const char* key) {
        const ConfigValue* value = use.node.find(key);
        return value ? value->scalar() : std::string("(absent)");
    };
    const PluginUse& hostWide = config.plugins[3];
    CHECK(hostWide.name == "facebook");
    CHECK(hostWide.instance.empty());
    CHECK(hostWide.node.find("instances") == nullptr);
    CHECK(scalar(hostWide, "app_id") == "1");

    const PluginUse& one = config.plugins[4];
    CHECK(one.name == "facebook");
    CHECK(one.instance == "shop-one");
    CHECK(scalar(one, "app_id") == "2");
    CHECK(scalar(one, "app_secret") == "two");
    CHECK(one.node.find("app_id")->path() == "auth.social.facebook.instances.shop-one.app_id");
    CHECK(one.node.find("instances") == nullptr);

    const PluginUse& two = config.plugins[5];
    CHECK(two.instance == "shop-two");
    CHECK(scalar(two, "app_id") == "1"); // inherited, and reported where it is written
    CHECK(two.node.find("app_id")->path() == "auth.social.facebook.app_id");
    CHECK(scalar(two, "timeout") == "2s");
    CHECK(two.node.path() == "auth.social.facebook.instances.shop-two");

    // Only `instances`: no host-wide use, so other instances do not have the backend.
    const PluginUse& twitter = config.plugins[6];
    CHECK(twitter.name == "twitter");
    CHECK(twitter.instance == "shop-one");
    CHECK(scalar(twitter, "consumer_key") == "k");
}

TEST_CASE("Per-instance social settings name instances and are maps", "[config]") {
    ConfigErrors errors;
    const auto root = parseYaml("auth:\n"
                                "  social:\n"
                                "    facebook:\n"
                                "      app_id: '1'\n"
                                "      instances:\n"
                                "        Shop: {app_id: '2'}\n"
                                "        abc: {app_id: '2'}\n"
                                "        shop-one: yes\n"
                                "    twitter: {instances: [shop-one]}\n"
                                "    linkedin: {instances: {}}\n"
                                "    google-oauth2: {client_ids: [x], instances: ~}\n",
                                fakeEnv({}), errors);
    const HostConfig config = readHostConfig(root, "l.yaml", "/plugins", errors);
    const std::string all = messages(errors);
    INFO(all);
    CHECK_THAT(all, Catch::Contains("6:auth.social.facebook.instances.Shop: \"Shop\" is not an "
                                    "instance name (5 to 64 lowercase letters"));
    CHECK_THAT(all, Catch::Contains("7:auth.social.facebook.instances.abc: \"abc\" is not"));
    CHECK_THAT(all, Catch::Contains("8:auth.social.facebook.instances.shop-one: expected a map of "
                                    "facebook settings for instance shop-one"));
    CHECK_THAT(all, Catch::Contains("9:auth.social.twitter.instances: expected a map of instance "
                                    "names"));
    CHECK_THAT(all, Catch::Contains("10:auth.social.linkedin.instances: lists no instance, and "
                                    "linkedin has no host-wide settings"));
    CHECK(all.find("google-oauth2") == std::string::npos); // host-wide, and no instance: fine
    // Read: facebook and google-oauth2 host-wide; none of the instances above.
    REQUIRE(config.plugins.size() == 2);
    for (const auto& use : config.plugins)
        CHECK(use.instance.empty());
}

TEST_CASE("A plugin name is a name, never a path or the host's namespace", "[config]") {
    ConfigErrors errors;
    const auto root = parseYaml("secrets: {key_file: s.key}\n"
                                "storage: {driver: ../../tmp/evil}\n"
                                "mailer: {driver: /tmp/evil}\n"
                                "auth:\n  latchkey.core: {}\n  password: {}\n  my_flow-2.x: {}\n"
                                "  social:\n    'a b': {}\n",
                                fakeEnv({}), errors);
    const HostConfig config = readHostConfig(root, "/etc/latchkey/l.yaml", "/plugins", errors);
    const std::string problems = messages(errors);
    CHECK_THAT(problems,
               Catch::Contains("storage.driver: \"../../tmp/evil\" is not a plugin name"));
    CHECK_THAT(problems, Catch::Contains("mailer.driver: \"/tmp/evil\" is not a plugin name"));
    CHECK_THAT(problems, Catch::Contains("\"latchkey.core\" is not a plugin name"));
    CHECK_THAT(problems, Catch::Contains("\"a b\" is not a plugin name"));
    REQUIRE(config.plugins.size() == 2); // only password and my_flow-2.x are names
    CHECK(config.plugins[0].name == "password");
    CHECK(config.plugins[1].name == "my_flow-2.x");
}

TEST_CASE("The host config reports wrong types, unknown keys and missing sections", "[config]") {
    ConfigErrors errors;
    const auto root = parseYaml("server:\n  listen: nowhere\n  threads: many\n  colour: blue\n"
                                "storage: {path: x.db}\n"
                                "admin: {email: a@b.c}\n"
                                "extra: 1\n",
                                fakeEnv({}), errors);
    readHostConfig(root, "c.yaml", "/plugins", errors);
    const std::string all = messages(errors);
    INFO(all);
    CHECK(all.find("2:server.listen: expected host:port") != std::string::npos);
    CHECK(all.find("3:server.threads: expected a whole number") != std::string::npos);
    CHECK(all.find("4:server.colour: unknown key") != std::string::npos);
    CHECK(all.find("storage.driver: is required") != std::string::npos);
    CHECK(all.find("mailer: is required") != std::string::npos);
    CHECK(all.find("admin.password: is required when admin.email is set") != std::string::npos);
    CHECK(all.find("secrets: set `key`") != std::string::npos);
    CHECK(all.find("7:extra: unknown key") != std::string::npos);
}

TEST_CASE("Durations are bounded above and errors never echo the value", "[config]") {
    ConfigErrors errors;
    const auto root = parseYaml("huge: 106751991167d\nsecret: 'pa${ss'\n", fakeEnv({}), errors);
    ConfigReader r(root, errors);
    CHECK(r.duration("huge", std::chrono::seconds(5)) == std::chrono::seconds(5));
    r.string("secret");
    const std::string all = messages(errors);
    CHECK_THAT(all, Catch::Contains("secret: unterminated ${"));
    CHECK_THAT(all, !Catch::Contains("pa${ss"));
    CHECK_THAT(all, Catch::Contains("huge: ") && Catch::Contains("must be between"));
}

TEST_CASE("cache: the time-to-live and the memory budget, bounded", "[config]") {
    const std::string base = "secrets: {key_file: s.key}\n"
                             "storage: {driver: sqlite, path: x.db}\n"
                             "mailer: {driver: outbox, dir: out}\n";
    {
        ConfigErrors errors;
        const auto config =
            readHostConfig(parseYaml(base, fakeEnv({}), errors), "c.yaml", "/plugins", errors);
        CHECK(errors.empty());
        CHECK(config.cache.ttl == std::chrono::seconds(1));
        CHECK(config.cache.maxBytes == std::size_t{64} << 20);
    }
    {
        ConfigErrors errors;
        const auto config = readHostConfig(
            parseYaml(base + "cache: {ttl: 250ms, max_memory: 8MiB}\n", fakeEnv({}), errors),
            "c.yaml", "/plugins", errors);
        CHECK(errors.empty());
        CHECK(config.cache.ttl == std::chrono::milliseconds(250));
        CHECK(config.cache.maxBytes == std::size_t{8} << 20);
    }
    {
        ConfigErrors errors;
        readHostConfig(parseYaml(base + "cache:\n  ttl: 5m\n  max_memory: 10KiB\n  size: 1\n",
                                 fakeEnv({}), errors),
                       "c.yaml", "/plugins", errors);
        const std::string all = messages(errors);
        INFO(all);
        CHECK_THAT(all, Catch::Contains("5:cache.ttl: must be between 0ms and 60000ms"));
        CHECK_THAT(all, Catch::Contains("6:cache.max_memory: must be between"));
        CHECK_THAT(all, Catch::Contains("7:cache.size: unknown key"));
    }
}

TEST_CASE("The serving settings: lanes, caps, deadlines, and the rules between them", "[config]") {
    const std::string base = "secrets: {key_file: s.key}\n"
                             "storage: {driver: sqlite, path: x.db}\n"
                             "mailer: {driver: outbox, dir: out}\n"
                             "auth: {password: {}}\n";
    {
        ConfigErrors errors;
        const auto root = parseYaml("server:\n  io_threads: 2\n  threads: 8\n  queue: 100\n"
                                    "  lanes: {hashing: {threads: 3, queue: 5}}\n"
                                    "  max_connections: 50000\n  max_connections_per_ip: 0\n"
                                    "  header_timeout: 2s\n  body_min_rate: 4KiB\n"
                                    "  write_timeout: 10s\n  shed_pause: 0s\n"
                                    "  max_header_size: 32KiB\n  max_headers: 50\n"
                                    "  max_body_memory: 1GiB\n" +
                                        base,
                                    fakeEnv({}), errors);
        const HostConfig config = readHostConfig(root, "c.yaml", "/plugins", errors);
        INFO(messages(errors));
        REQUIRE(errors.empty());
        const ServerSettings& s = config.server;
        CHECK(s.ioThreads == 2);
        CHECK(s.threads == 8);
        CHECK(s.queue == 100);
        CHECK(s.hashing.threads == 3);
        CHECK(s.hashing.queue == 5);
        CHECK(s.outbound.threads == 16); // not given: its default
        CHECK(s.maxConnections == 50000);
        CHECK(s.maxConnectionsPerIp == 0);
        CHECK(s.headerTimeout == std::chrono::seconds(2));
        CHECK(s.bodyMinRate == 4096);
        CHECK(s.writeTimeout == std::chrono::seconds(10));
        CHECK(s.shedPause.count() == 0);
        CHECK(s.maxHeaderBytes == 32768);
        CHECK(s.maxHeaders == 50);
        CHECK(s.maxBodyMemory == 1ULL << 30);
    }
    {
        ConfigErrors errors;
        const auto root = parseYaml("server:\n  lanes: {hashing: {threads: 0}, fast: {}}\n"
                                    "  max_body: 8MiB\n  max_body_memory: 4MiB\n"
                                    "  keep_alive_timeout: 1s\n  shed_pause: 2s\n" +
                                        base,
                                    fakeEnv({}), errors);
        readHostConfig(root, "c.yaml", "/plugins", errors);
        const std::string all = messages(errors);
        INFO(all);
        CHECK(all.find("2:server.lanes.hashing.threads: must be between 1 and 4096") !=
              std::string::npos);
        CHECK(all.find("2:server.lanes.fast: unknown key") != std::string::npos);
        CHECK(all.find("4:server.max_body_memory: server.max_body_memory must be at least "
                       "server.max_body") != std::string::npos);
        CHECK(all.find("6:server.shed_pause: server.shed_pause must be shorter than "
                       "keep_alive_timeout") != std::string::npos);
    }
}
