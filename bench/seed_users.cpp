// Seeds one instance with many users for bench/scale, writing them directly through the storage
// plugin (an API call per user would take hours: each one hashes a password). Every user gets
// its own key, issued and sealed by the host's KeyVault with the host's secret, exactly as the
// host issues keys; all of them share the password hash of one user the API created, so any of
// them logs in with that user's password. A sample of the users (their names and keys) is
// written out for the wrk scripts.
//
// Usage: latchkey_seed_users PLUGIN_FILE DRIVER_YAML SECRET_FILE INSTANCE TEMPLATE_USER COUNT
//                            SAMPLE_FILE SAMPLES
//   PLUGIN_FILE   the storage driver's library (…/lib/latchkey/plugins/latchkey-sqlite.so)
//   DRIVER_YAML   its settings, as under `storage:` without `driver:` ("path: /tmp/x.db")
//   SECRET_FILE   the host's secrets.key_file
//   COUNT         users to add; SAMPLES of them, spread evenly, go to SAMPLE_FILE as
//                 "username user_key" lines.
#include "core/key_vault.hpp"
#include "runtime/plugin_loader.hpp"
#include "runtime/services.hpp"
#include "runtime/yaml_loader.hpp"

#include <latchkey/storage.hpp>
#include <latchkey/support/storage_facets.hpp>
#include <latchkey/support/time.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

using namespace latchkey;

namespace {

int seed(char** argv) {
    const std::string pluginFile = argv[1];
    const std::string driverYaml = argv[2];
    const std::string secretFile = argv[3];
    const std::string instanceName = argv[4];
    const std::string templateName = argv[5];
    const std::string sampleFile = argv[7];
    const long count = std::stol(argv[6]);
    const long samples = std::stol(argv[8]);
    if (count <= 0 || samples <= 0 || samples > count)
        throw std::invalid_argument("COUNT and SAMPLES must be positive, SAMPLES <= COUNT");

    ConfigErrors errors;
    const ConfigValue config =
        runtime::parseYaml(driverYaml, runtime::processEnvironment(), errors);
    const auto library = runtime::PluginLibrary::load(pluginFile);
    const runtime::PluginSettings settings =
        runtime::PluginLibrary::readSettings(library, config, errors);
    if (!errors.empty()) throw std::invalid_argument(errors.issues()[0].message);

    runtime::SystemClock clock;
    runtime::SodiumRandom random;
    // A storage driver uses none of the host's services (they are for flows and backends).
    runtime::HostContext context(
        runtime::PluginIdentity{library->info().name, library->storageFacets()},
        spdlog::stderr_color_mt("seed"), clock, random, runtime::ServiceLocator{},
        "http://localhost", "/");
    const auto driver = runtime::createPlugin(library, context, settings);
    const StorageFacets store(*driver);

    const auto instance = store.instances().findInstance(instanceName);
    if (!instance) throw std::invalid_argument("no instance " + instanceName);
    const auto model = store.users().findUserByUsername(instance->id, templateName);
    if (!model) throw std::invalid_argument("no user " + templateName + " in " + instanceName);
    const core::KeyVault vault(core::KeyVault::loadOrCreateSecretFile(secretFile, random));

    std::ofstream out(sampleFile);
    const long every = count / samples;
    const auto started = std::chrono::steady_clock::now();
    for (long i = 0; i < count; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "seeded-%08ld", i);
        auto [key, sealed] = vault.issue(core::KeyPurpose::UserKey, random);
        UserRecord user;
        user.instanceId = instance->id;
        user.username = name;
        user.passwordHash = model->passwordHash;
        user.key = std::move(sealed);
        user.createdAt = user.updatedAt = user.profile.createdAt = user.profile.updatedAt =
            toMicros(clock.now());
        user.profile.data = model->profile.data;
        store.users().createUser(user);
        if (i % every == 0 && i / every < samples) out << name << ' ' << key << '\n';
        if ((i + 1) % 100'000 == 0) {
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            std::cerr << "seeded " << i + 1 << " users in " << seconds << " s\n";
        }
    }
    return out.good() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 9) {
        std::cerr << "usage: latchkey_seed_users PLUGIN_FILE DRIVER_YAML SECRET_FILE INSTANCE "
                     "TEMPLATE_USER COUNT SAMPLE_FILE SAMPLES\n";
        return 2;
    }
    try {
        return seed(argv);
    } catch (const std::exception& e) {
        std::cerr << "latchkey_seed_users: " << e.what() << '\n';
        return 1;
    }
}
