// A real SMTP server for tests: tests/support/smtp_sink.py (aiosmtpd) run as a child process.
#include "support/smtp_sink.hpp"

#include "support/host_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace latchkey::test {

namespace {
// Debian's aiosmtpd is installed for Debian's Python, whatever `python3` is on PATH.
constexpr const char* kPython = "/usr/bin/python3";
} // namespace

SmtpSink::SmtpSink(Options options) {
    std::vector<std::string> argv{
        kPython, std::string(LATCHKEY_TEST_SOURCE_DIR) + "/tests/support/smtp_sink.py", "--dir",
        dir_.file("mail")};
    if (!options.user.empty()) {
        argv.insert(argv.end(), {"--user", options.user, "--password", options.password});
    }
    if (!options.cert.empty()) {
        argv.insert(argv.end(), {"--cert", options.cert, "--key", options.key});
    }
    if (options.failFirst > 0) {
        argv.insert(argv.end(), {"--fail-first", std::to_string(options.failFirst)});
    }
    if (options.delaySeconds > 0) {
        argv.insert(argv.end(), {"--delay", std::to_string(options.delaySeconds)});
    }
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const int err =
        ::open(dir_.file("sink.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ =
        spawnProcess(argv, {"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"}, in[0], out[1], err);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err);
    stdin_ = in[1];

    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd pfd{out[0], POLLIN, 0};
        if (::poll(&pfd, 1, 100) > 0) {
            char buf[64];
            const ssize_t n = ::read(out[0], buf, sizeof buf);
            if (n <= 0) break;
            text.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(out[0]);
    if (text.rfind("port ", 0) != 0) {
        throw std::runtime_error("the SMTP sink did not start: " + readFile(dir_.file("sink.log")));
    }
    port_ = static_cast<std::uint16_t>(std::stoi(text.substr(5)));
}

SmtpSink::~SmtpSink() {
    if (stdin_ >= 0) ::close(stdin_); // the sink stops when its stdin closes
    if (pid_ > 0) {
        for (int i = 0; i < 200; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

std::vector<std::string> SmtpSink::messages() const {
    std::vector<std::pair<int, std::string>> numbered;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.file("mail"), ec)) {
        const auto name = entry.path().filename().string();
        if (entry.path().extension() != ".eml" || name.front() == '.') continue;
        numbered.emplace_back(std::stoi(name), readFile(entry.path().string()));
    }
    std::sort(numbered.begin(), numbered.end());
    std::vector<std::string> out;
    for (auto& [n, text] : numbered)
        out.push_back(std::move(text));
    return out;
}

std::vector<std::string> SmtpSink::waitForMessages(std::size_t count,
                                                   std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto found = messages();
    while (found.size() < count && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        found = messages();
    }
    return found;
}

std::pair<std::string, std::string> selfSignedCertificate(const TempDir& dir) {
    const std::string cert = dir.file("cert.pem");
    const std::string key = dir.file("key.pem");
    const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
                                "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
                                key + "' -out '" + cert + "' > /dev/null 2>&1";
    if (std::system(command.c_str()) != 0) { // NOLINT(concurrency-mt-unsafe)
        throw std::runtime_error("openssl could not make a test certificate");
    }
    return {cert, key};
}

} // namespace latchkey::test
