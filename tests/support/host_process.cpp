// Runs the real `latchkey` binary: one-shot CLI commands, or `serve` on port 0 in the background.
#include "support/host_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace latchkey::test {

std::string latchkeyBinary() {
    return LATCHKEY_TEST_BINARY;
}
std::string pluginDir() {
    return LATCHKEY_TEST_PLUGIN_DIR;
}
std::string fixtureDir(const std::string& name) {
    return std::string(LATCHKEY_TEST_FIXTURE_DIR) + "/" + name;
}

namespace {

/// The environment for the child: ours with `extra` laid over it.
std::vector<std::string> childEnvironment(const Env& extra) {
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        const std::string name = entry.substr(0, entry.find('='));
        bool replaced = false;
        for (const auto& [key, value] : extra)
            replaced = replaced || key == name;
        // Never let the developer's own settings leak into a test; the test databases'
        // passwords reach the host as `${LATCHKEY_TEST_..._PASSWORD}` in its config.
        const bool own = name.rfind("LATCHKEY_", 0) == 0 && name.rfind("LATCHKEY_TEST_", 0) != 0;
        if (!replaced && !own) out.push_back(entry);
    }
    for (const auto& [key, value] : extra)
        out.push_back(key + "=" + value);
    return out;
}

/// fork + execve of `latchkey args...` with stdout and stderr redirected.
pid_t spawn(const std::vector<std::string>& args, const Env& env, int outFd, int errFd,
            int inFd = -1) {
    std::vector<std::string> argv{latchkeyBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawnProcess(argv, childEnvironment(env), inFd, outFd, errFd);
}

int exitCodeOf(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

/// Waits for `pid` up to `timeout`; kills it after that. Returns its exit code.
int waitFor(pid_t pid, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) return exitCodeOf(status);
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            throw std::runtime_error("latchkey did not exit in time");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace

pid_t spawnProcess(const std::vector<std::string>& argv,
                   const std::vector<std::string>& environment, int inFd, int outFd, int errFd) {
    std::vector<std::string> args = argv;
    std::vector<char*> argvPtrs;
    for (auto& a : args)
        argvPtrs.push_back(a.data());
    argvPtrs.push_back(nullptr);
    std::vector<std::string> envp = environment;
    std::vector<char*> envPtrs;
    for (auto& e : envp)
        envPtrs.push_back(e.data());
    envPtrs.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec: the test process has threads.
        if (inFd >= 0) ::dup2(inFd, STDIN_FILENO);
        ::dup2(outFd, STDOUT_FILENO);
        ::dup2(errFd, STDERR_FILENO);
        ::execve(argvPtrs[0], argvPtrs.data(), envPtrs.data());
        ::_exit(127);
    }
    return pid;
}

namespace {

CommandResult runWith(const std::vector<std::string>& args, const Env& env,
                      std::chrono::seconds timeout, const std::string* input) {
    TempDir dir;
    const std::string outFile = dir.file("out");
    const std::string errFile = dir.file("err");
    const int outFd = ::open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int errFd = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int inFd = -1;
    if (input) {
        const std::string inFile = dir.write("in", *input);
        inFd = ::open(inFile.c_str(), O_RDONLY | O_CLOEXEC);
    }
    const pid_t pid = spawn(args, env, outFd, errFd, inFd);
    ::close(outFd);
    ::close(errFd);
    if (inFd >= 0) ::close(inFd);
    CommandResult result;
    result.exitCode = waitFor(pid, timeout);
    result.out = readFile(outFile);
    result.err = readFile(errFile);
    return result;
}

} // namespace

CommandResult runLatchkey(const std::vector<std::string>& args, const Env& env,
                          std::chrono::seconds timeout) {
    return runWith(args, env, timeout, nullptr);
}

CommandResult runLatchkeyWithInput(const std::vector<std::string>& args, const std::string& input,
                                   const Env& env) {
    return runWith(args, env, std::chrono::seconds(60), &input);
}

std::string testStorageDriver() {
    const char* driver = std::getenv("LATCHKEY_TEST_STORAGE");
    return driver && *driver ? driver : "sqlite";
}

std::shared_ptr<TestDatabase> testDatabaseFor(const TempDir& dir) {
    const std::string driver = testStorageDriver();
    if (driver == "sqlite") return nullptr;
    // One database per deployment directory, so a restarted host finds its data; all are
    // dropped when the test process ends.
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<TestDatabase>> databases;
    std::lock_guard lock(mutex);
    auto& database = databases[dir.path().string()];
    if (!database) database = std::make_shared<TestDatabase>(driver);
    return database;
}

std::string testConfig(const TempDir& dir, const std::string& passwordSettings,
                       const std::string& extraAuth, const std::string& extraTop,
                       const std::vector<std::string>& extraPluginDirs) {
    std::string paths = "    - " + pluginDir() + "\n";
    for (const auto& extra : extraPluginDirs)
        paths += "    - " + extra + "\n";
    const std::string password =
        passwordSettings.empty() ? "{argon2: {memory: 1MiB, iterations: 1}}" : passwordSettings;
    const auto database = testDatabaseFor(dir);
    const std::string storage =
        database ? "  driver: " + database->driver() + "\n" + database->yaml("  ")
                 : "  driver: sqlite\n  path: " + dir.file("latchkey.db") + "\n";
    return "server:\n"
           "  listen: 127.0.0.1:0\n"
           "  threads: 16\n"
           "  drain_timeout: 10s\n"
           "secrets:\n"
           "  key_file: " +
           dir.file("secret.key") +
           "\n"
           "plugins:\n"
           "  paths:\n" +
           paths + "storage:\n" + storage +
           "mailer:\n"
           "  driver: outbox\n"
           "  dir: " +
           dir.file("outbox") +
           "\n"
           "admin:\n"
           "  email: " +
           kAdminEmail +
           "\n"
           "  password: " +
           kAdminPassword +
           "\n"
           "auth:\n"
           "  password: " +
           password + "\n" + extraAuth + extraTop;
}

HostProcess::HostProcess(const std::string& configPath, const Env& env) {
    logFile_ = logDir_.file("stderr.log");
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const int errFd = ::open(logFile_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ = spawn({"serve", "-c", configPath}, env, pipeFds[1], errFd);
    ::close(pipeFds[1]);
    ::close(errFd);

    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    const std::string marker = "listening on ";
    while (out.find('\n', out.find(marker)) == std::string::npos ||
           out.find(marker) == std::string::npos) {
        pollfd pfd{pipeFds[0], POLLIN, 0};
        const int ready = ::poll(&pfd, 1, 100);
        if (ready > 0) {
            char buf[512];
            const ssize_t n = ::read(pipeFds[0], buf, sizeof buf);
            if (n > 0) {
                out.append(buf, static_cast<std::size_t>(n));
                continue;
            }
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_ ||
            std::chrono::steady_clock::now() > deadline) {
            ::close(pipeFds[0]);
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
            throw std::runtime_error("latchkey did not start:\n" + readFile(logFile_));
        }
    }
    ::close(pipeFds[0]);
    const std::size_t at = out.find(marker) + marker.size();
    baseUrl_ = out.substr(at, out.find('\n', at) - at);
}

HostProcess::~HostProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

int HostProcess::stop(int signal, std::chrono::seconds timeout) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    const int code = waitFor(pid_, timeout);
    pid_ = -1;
    return code;
}

std::string HostProcess::log() const {
    return readFile(logFile_);
}

std::string adminAccountKey(const HttpClient& client) {
    const auto result =
        client.post("/v1.1/account/auth/", std::string("{\"email\": \"") + kAdminEmail +
                                               "\", \"password\": \"" + kAdminPassword + "\"}");
    if (result.status != 200) throw std::runtime_error("admin login failed: " + result.body);
    return result.str("account_key");
}

std::string createInstanceWithApiKey(const HttpClient& client, const std::string& accountKey,
                                     const std::string& name, const std::string& apiKeyBody) {
    const std::vector<std::pair<std::string, std::string>> admin{{"X-API-KEY", accountKey}};
    const auto instance = client.post("/v1.1/instances/", R"({"name": ")" + name + R"("})", admin);
    if (instance.status != 201)
        throw std::runtime_error("creating instance " + name + " failed: " + instance.body);
    const auto key = client.post("/v1.1/instances/" + name + "/api_keys/", apiKeyBody, admin);
    if (key.status != 201)
        throw std::runtime_error("creating an API key in " + name + " failed: " + key.body);
    return key.str("api_key");
}

} // namespace latchkey::test
