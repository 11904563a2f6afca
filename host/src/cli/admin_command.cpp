// `latchkey admin` (the operator's changes to the administrator account, made on the
// configured store without a running host: every host sees them at once, as nothing caches
// accounts by key) and `latchkey migrate`.
#include "cli/commands.hpp"

#include "runtime/application.hpp"
#include "runtime/services.hpp"

#include <latchkey/support/time.hpp>

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <iostream>
#include <iterator>
#include <optional>

namespace latchkey::cli {

namespace {

using runtime::Application;
using runtime::LoadedConfig;

const char* const kAdminUsage = R"(Usage:
  latchkey admin create-admin -c FILE [--email ADDR]
      create the administrator account with a password read as set-password reads it, and
      print its account key (exit 1 when it exists: set-password changes its password)
  latchkey admin reset-key -c FILE [--email ADDR]
      give the account a new account key and print it; the old key stops working at once
  latchkey admin set-password -c FILE [--email ADDR]
      read a new password (from the terminal without echo, twice; else the first line of
      standard input), set it, and print the account's new key (the old one stops working)
  latchkey admin list-instances -c FILE [--email ADDR]
      print the account's instances, one per line: name, id, creation time (UTC)

ADDR is the account's email, by default FILE's admin.email. The store is FILE's; the host
need not run, and hosts that do see the change at once. Only the store and the hasher plugins
are created. The event is logged like the API's (client=cli); nothing secret is logged.

Exit status: 0 done, 1 the store or the account refused (the reason is printed), 2 usage or
config errors.
)";

struct AdminArguments {
    std::string subcommand;
    std::string configFile;
    std::string email;
};

/// Reads `args`; a problem goes to `error`.
std::optional<AdminArguments> parse(const std::vector<std::string>& args, std::string& error) {
    AdminArguments out;
    if (args.empty() || args[0].rfind('-', 0) == 0) {
        error = "admin needs a subcommand (create-admin, reset-key, set-password, list-instances)";
        return std::nullopt;
    }
    out.subcommand = args[0];
    if (out.subcommand != "create-admin" && out.subcommand != "reset-key" &&
        out.subcommand != "set-password" && out.subcommand != "list-instances") {
        error = "unknown admin subcommand \"" + out.subcommand + "\"";
        return std::nullopt;
    }
    if (!readOptions(args, 1,
                     {{"-c", "--config", "a file", &out.configFile},
                      {nullptr, "--email", "an address", &out.email}},
                     error)) {
        return std::nullopt;
    }
    if (out.configFile.empty()) {
        error = "admin " + out.subcommand + " needs -c FILE";
        return std::nullopt;
    }
    return out;
}

/// The terminal's settings while echo is off, and the signal dispositions EchoOff replaced, for
/// the signal handler to put back.
termios gSavedTerminal{};
constexpr int kFatalSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
struct sigaction gSavedActions[std::size(kFatalSignals)] = {};

extern "C" void restoreTerminalAndDie(int signal) {
    // Only async-signal-safe calls (POSIX): tcsetattr, sigaction, raise.
    const int savedErrno = errno;
    tcsetattr(STDIN_FILENO, TCSANOW, &gSavedTerminal);
    for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) {
        if (kFatalSignals[i] == signal) sigaction(signal, &gSavedActions[i], nullptr);
    }
    errno = savedErrno;
    raise(signal); // delivered once this handler returns, with the disposition it had before
}

/// Echo off on the terminal while it lives (both prompts of a password, so nothing typed ahead
/// is echoed between them), put back when it ends and when the process is interrupted, hung up
/// on or terminated meanwhile; Ctrl-Z is ignored meanwhile (a stopped prompt would come back
/// with echo on). Signals the process ignored stay ignored.
class EchoOff {
public:
    EchoOff() {
        if (tcgetattr(STDIN_FILENO, &gSavedTerminal) != 0) return; // then echo stays on
        struct sigaction handler {};
        handler.sa_handler = restoreTerminalAndDie;
        sigemptyset(&handler.sa_mask);
        for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) {
            sigaction(kFatalSignals[i], nullptr, &gSavedActions[i]);
            if (gSavedActions[i].sa_handler != SIG_IGN)
                sigaction(kFatalSignals[i], &handler, nullptr);
        }
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        sigaction(SIGTSTP, &ignore, &savedStop_);
        termios quiet = gSavedTerminal;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        // TCSAFLUSH: anything typed before the first prompt (and so echoed) is not read.
        active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    ~EchoOff() {
        if (active_) tcsetattr(STDIN_FILENO, TCSADRAIN, &gSavedTerminal);
        for (std::size_t i = 0; i < std::size(kFatalSignals); ++i)
            sigaction(kFatalSignals[i], &gSavedActions[i], nullptr);
        sigaction(SIGTSTP, &savedStop_, nullptr);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    struct sigaction savedStop_ {};
    bool active_ = false;
};

/// The config `file` as the store commands read it; nullopt (problems printed) when it has
/// problems. admin.password only creates the account at a host's first start: these commands
/// need none, so nothing about it stops them (an operator may have removed the variable it
/// came from, and must still be able to recover or back up).
std::optional<LoadedConfig> readConfig(const std::string& file) {
    ConfigErrors all;
    LoadedConfig loaded = runtime::loadConfiguration(file, runtime::processEnvironment(), all);
    ConfigErrors errors;
    for (const ConfigIssue& issue : all.issues()) {
        if (issue.path != "admin.password") errors.add(issue);
    }
    if (!errors.empty()) {
        printIssues(file, errors);
        return std::nullopt;
    }
    return loaded;
}

/// One line from standard input without its line end; nullopt at its end.
std::optional<std::string> readLine() {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

/// The new password: on a terminal asked twice with echo off (from before the first prompt
/// shows until after the second line), else the first line of standard input; nullopt (with
/// the reason printed) when there is none.
std::optional<std::string> newPassword() {
    std::optional<std::string> password;
    if (isatty(STDIN_FILENO) != 0) {
        const EchoOff quiet;
        std::cerr << "New password: " << std::flush;
        password = readLine();
        std::cerr << "\n";
        if (password && !password->empty()) {
            std::cerr << "Again: " << std::flush;
            const auto again = readLine();
            std::cerr << "\n";
            if (!again || *again != *password) {
                std::cerr << "latchkey: the two passwords differ\n";
                return std::nullopt;
            }
        }
    } else {
        password = readLine();
    }
    if (!password || password->empty()) {
        std::cerr << "latchkey: no password given on standard input\n";
        return std::nullopt;
    }
    return password;
}

} // namespace

int runAdmin(const std::vector<std::string>& args) {
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << kAdminUsage;
        return kExitOk;
    }
    std::string error;
    const auto parsed = parse(args, error);
    if (!parsed) {
        std::cerr << "latchkey: " << error << "\n\n" << kAdminUsage;
        return kExitUsage;
    }
    auto config = readConfig(parsed->configFile);
    if (!config) return kExitUsage;
    LoadedConfig loaded = std::move(*config);
    const std::string email = parsed->email.empty() ? loaded.host.admin.email : parsed->email;
    if (email.empty()) {
        std::cerr << "latchkey: " << parsed->configFile
                  << " sets no admin.email: name the account with --email ADDR\n";
        return kExitUsage;
    }
    std::optional<std::string> password;
    if (parsed->subcommand == "set-password" || parsed->subcommand == "create-admin") {
        // Asked before the store opens, so a typo costs no migration run.
        password = newPassword();
        if (!password) return kExitUsage;
    }
    // A closed stdout must be an error on the write below, not a silent death by SIGPIPE
    // after the old key was revoked.
    std::signal(SIGPIPE, SIG_IGN);
    auto log =
        runtime::makeLogger("latchkey", loaded.host.logging.level, loaded.host.logging.format);
    Application app(std::move(loaded), log);
    try {
        app.openForAdministration();
        if (parsed->subcommand == "list-instances") {
            for (const InstanceRecord& instance : app.identityCore().instancesOf(email)) {
                std::cout << instance.name << '\t' << instance.id << '\t'
                          << formatSeconds(instance.createdAt) << '\n';
            }
            std::cout.flush();
            return std::cout ? kExitOk : kExitFailure;
        }
        if (parsed->subcommand == "create-admin") {
            const auto created = app.identityCore().createAdmin(email, *password);
            if (!created) {
                std::cerr << "latchkey: an account " << email
                          << " exists already; `latchkey admin set-password` changes its "
                             "password\n";
                return kExitFailure;
            }
            std::cerr << "created the administrator account " << email
                      << "; its account key follows\n";
            std::cout << *created << std::endl;
            return std::cout ? kExitOk : kExitFailure;
        }
        const std::string key = password ? app.identityCore().setAccountPassword(email, *password)
                                         : app.identityCore().resetAccountKey(email);
        std::cerr << (password ? "password set; " : "") << "the new account key of " << email
                  << " follows (the old one no longer works)\n";
        std::cout << key << std::endl;
        if (!std::cout) {
            // The old key is gone already: say so rather than exit 0 without the new one.
            std::cerr << "latchkey: could not write the new key to standard output; run `latchkey "
                         "admin reset-key` again to get another one\n";
            return kExitFailure;
        }
    } catch (const std::exception& e) {
        std::cerr << "latchkey: admin " << parsed->subcommand << ": " << e.what() << "\n";
        return kExitFailure;
    }
    return kExitOk;
}

const char* const kMigrateUsage = R"(Usage:
  latchkey migrate -c FILE
      bring FILE's store up to this latchkey's schema and exit, without serving: for
      deployments that migrate before they roll their hosts. Hosts do the same when they start;
      migrations only add, so hosts of the previous release keep working on the result.

Exit status: 0 up to date, 1 the store refused (the reason is printed), 2 usage or config
errors.
)";

const char* const kBackupUsage = R"(Usage:
  latchkey backup -c FILE -o OUT
      copy FILE's store, as it is at one moment, to the new file OUT (mode 0600; an existing
      file is refused), while hosts go on serving. The sqlite driver offers it (SQLite's online
      backup); for PostgreSQL and MariaDB use pg_dump or mariadb-dump (docs/deployment.md).
      Like a starting host, it first brings the store to this latchkey's schema. Keep the
      secret (secrets.key_file) apart from the copies: together they open every key.

Exit status: 0 copied, 1 the store or the file refused (the reason is printed), 2 usage or
config errors.
)";

namespace {

/// `-c FILE` (and, when `output` is given, `-o OUT`) or --help; nullopt with the exit code in
/// `exit` when the command must stop (help printed, or a usage error).
std::optional<std::string> storeArguments(const std::vector<std::string>& args, const char* usage,
                                          std::string* output, int& exit) {
    if (std::find_if(args.begin(), args.end(), [](const std::string& a) {
            return a == "--help" || a == "-h";
        }) != args.end()) {
        std::cout << usage;
        exit = kExitOk;
        return std::nullopt;
    }
    std::string configFile;
    std::string error;
    const bool read =
        output ? readOptions(args, 0,
                             {{"-c", "--config", "a file", &configFile},
                              {"-o", "--output", "a file", output}},
                             error)
               : readOptions(args, 0, {{"-c", "--config", "a file", &configFile}}, error);
    if (!read) {
        std::cerr << "latchkey: " << error << "\n\n" << usage;
        exit = kExitUsage;
        return std::nullopt;
    }
    if (configFile.empty() || (output && output->empty())) {
        std::cerr << "latchkey: "
                  << (output ? "backup needs -c FILE and -o OUT" : "migrate needs -c FILE")
                  << "\n\n"
                  << usage;
        exit = kExitUsage;
        return std::nullopt;
    }
    return configFile;
}

} // namespace

int runMigrate(const std::vector<std::string>& args) {
    int exit = kExitOk;
    const auto configFile = storeArguments(args, kMigrateUsage, nullptr, exit);
    if (!configFile) return exit;
    auto loaded = readConfig(*configFile);
    if (!loaded) return kExitUsage;
    auto log =
        runtime::makeLogger("latchkey", loaded->host.logging.level, loaded->host.logging.format);
    Application app(std::move(*loaded), log);
    try {
        app.openStore(); // the storage plugin migrates as it opens, and logs what it applied
    } catch (const std::exception& e) {
        std::cerr << "latchkey: migrate: " << e.what() << "\n";
        return kExitFailure;
    }
    std::cout << *configFile << ": the store is at this latchkey's schema\n";
    return kExitOk;
}

int runBackup(const std::vector<std::string>& args) {
    int exit = kExitOk;
    std::string output;
    const auto configFile = storeArguments(args, kBackupUsage, &output, exit);
    if (!configFile) return exit;
    auto loaded = readConfig(*configFile);
    if (!loaded) return kExitUsage;
    const std::string driver = loaded->selected.empty() ? "" : loaded->selected.front().use.name;
    auto log =
        runtime::makeLogger("latchkey", loaded->host.logging.level, loaded->host.logging.format);
    Application app(std::move(*loaded), log);
    try {
        app.openStore();
        StorageBackup* backup = app.storageBackup();
        if (!backup) {
            std::cerr << "latchkey: backup: the " << driver
                      << " storage driver has no online backup; use the database's own tool "
                         "(pg_dump, mariadb-dump: docs/deployment.md, Backups)\n";
            return kExitFailure;
        }
        backup->backupTo(output);
    } catch (const std::exception& e) {
        std::cerr << "latchkey: backup: " << e.what() << "\n";
        return kExitFailure;
    }
    std::cout << output << "\n";
    return kExitOk;
}

} // namespace latchkey::cli
