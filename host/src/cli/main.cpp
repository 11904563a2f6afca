// The `latchkey` command: serve, check-config, plugins, admin, --version, --help.
#include "cli/commands.hpp"
#include "runtime/application.hpp"

#include <latchkey/version.hpp>

#include <csignal>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <pthread.h>
#include <string>
#include <vector>

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "0.0.0"
#endif

namespace {

using namespace latchkey;
using namespace latchkey::runtime;
using namespace latchkey::cli;

const char* const kUsage = R"(latchkey: a plugin-based authentication server

Usage:
  latchkey serve -c FILE          load FILE, start the plugins it names and serve until
                                  SIGINT or SIGTERM (in-flight requests are drained)
  latchkey check-config -c FILE   validate FILE and every plugin it names; print every problem
  latchkey plugins -c FILE        list the plugins found in FILE's plugin paths
  latchkey admin reset-key -c FILE [--email ADDR]
  latchkey admin set-password -c FILE [--email ADDR]
  latchkey admin list-instances -c FILE [--email ADDR]
                                  the administrator account's key, password and instances,
                                  on FILE's store (`latchkey admin --help` says more)
  latchkey migrate -c FILE        bring FILE's store up to this schema and exit
  latchkey backup -c FILE -o OUT  copy FILE's SQLite store to OUT while it serves
  latchkey --version              print the version of the host and of its plugin SDK
  latchkey --help                 print this help

Exit status: 0 on success, 1 when the server fails at run time, 2 for usage or config errors.
)";

struct Arguments {
    std::string command;
    std::string configFile;
};

bool parseArguments(int argc, char** argv, Arguments& out, std::string& error) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        error = "no command given";
        return false;
    }
    out.command = args[0];
    if (!readOptions(args, 1, {{"-c", "--config", "a file", &out.configFile}}, error)) {
        return false;
    }
    if (out.configFile.empty()) {
        error = out.command + " needs -c FILE";
        return false;
    }
    return true;
}

int checkConfig(const std::string& file) {
    ConfigErrors errors;
    const LoadedConfig loaded = loadConfiguration(file, processEnvironment(), errors);
    if (!errors.empty()) {
        printIssues(file, errors);
        return kExitUsage;
    }
    std::cout << file << ": OK (";
    for (std::size_t i = 0; i < loaded.host.plugins.size(); ++i) {
        const PluginUse& use = loaded.host.plugins[i];
        std::cout << (i ? ", " : "") << use.name
                  << (use.instance.empty() ? "" : " for " + use.instance);
    }
    std::cout << ")\n";
    return kExitOk;
}

int listPlugins(const std::string& file) {
    ConfigErrors errors;
    const LoadedConfig loaded =
        loadConfiguration(file, processEnvironment(), errors, PluginScan::Everything);
    std::cout << std::left << std::setw(16) << "NAME" << std::setw(12) << "KIND" << std::setw(10)
              << "VERSION" << std::setw(6) << "SDK" << std::setw(6) << "USED"
              << "FILE\n";
    for (const auto& library : loaded.catalog.libraries) {
        const PluginInfo& info = library->info();
        bool used = false;
        for (const auto& use : loaded.host.plugins)
            used = used || use.name == info.name;
        std::cout << std::left << std::setw(16) << info.name << std::setw(12) << kindName(info.kind)
                  << std::setw(10) << (info.version ? info.version : "") << std::setw(6)
                  << library->sdkVersion() << std::setw(6) << (used ? "yes" : "no")
                  << library->path() << "\n";
        if (info.description && *info.description) {
            std::cout << "    " << info.description << "\n";
        }
        if (info.posture && *info.posture) std::cout << "    posture: " << info.posture << "\n";
    }
    if (!errors.empty()) {
        std::cerr << "\n";
        printIssues(file, errors);
        return kExitUsage;
    }
    return kExitOk;
}

int serve(const std::string& file) {
    // Block the shutdown signals in every thread (threads inherit the mask); the main thread
    // waits for them with sigwait, so a signal never interrupts a worker mid-request.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    ConfigErrors errors;
    LoadedConfig loaded = loadConfiguration(file, processEnvironment(), errors);
    if (!errors.empty()) {
        printIssues(file, errors);
        return kExitUsage;
    }
    auto log = makeLogger("latchkey", loaded.host.logging.level, loaded.host.logging.format);
    Application app(std::move(loaded), log);
    try {
        app.start();
    } catch (const std::exception& e) {
        log->critical("cannot start: {}", e.what());
        return kExitFailure;
    }
    log->info("latchkey {} listening on {}", LATCHKEY_VERSION, app.listenUrl());
    // One machine-readable line on stdout, for scripts and tests started with port 0.
    std::cout << "latchkey listening on " << app.listenUrl() << std::endl;

    int received = 0;
    sigwait(&signals, &received);
    log->info("received {}; draining in-flight requests",
              received == SIGINT ? "SIGINT" : "SIGTERM");
    const bool drained = app.stop();
    log->info("stopped{}", drained ? "" : " (some requests were cut off at the drain timeout)");
    return kExitOk;
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::cout << kUsage;
        return kExitOk;
    }
    if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
        std::cout << "latchkey " << LATCHKEY_VERSION << " (plugin SDK "
                  << LATCHKEY_SDK_VERSION_MAJOR << "." << LATCHKEY_SDK_VERSION_MINOR << "."
                  << LATCHKEY_SDK_VERSION_PATCH << ", " << LATCHKEY_TOOLCHAIN_FINGERPRINT << ")\n";
        return kExitOk;
    }
    const std::string command = argc >= 2 ? argv[1] : "";
    if (command == "admin" || command == "migrate" || command == "backup") {
        const std::vector<std::string> rest(argv + 2, argv + argc);
        try {
            if (command == "admin") return runAdmin(rest);
            return command == "migrate" ? runMigrate(rest) : runBackup(rest);
        } catch (const std::exception& e) {
            std::cerr << "latchkey: " << e.what() << "\n";
            return kExitFailure;
        }
    }
    Arguments args;
    std::string error;
    if (!parseArguments(argc, argv, args, error)) {
        std::cerr << "latchkey: " << error << "\n\n" << kUsage;
        return kExitUsage;
    }
    try {
        if (args.command == "serve") return serve(args.configFile);
        if (args.command == "check-config") return checkConfig(args.configFile);
        if (args.command == "plugins") return listPlugins(args.configFile);
    } catch (const std::exception& e) {
        std::cerr << "latchkey: " << e.what() << "\n";
        return kExitFailure;
    }
    std::cerr << "latchkey: unknown command \"" << args.command << "\"\n\n" << kUsage;
    return kExitUsage;
}
