#include "support/python_helper.hpp"

#include "support/host_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <stdexcept>
#include <thread>

namespace latchkey::test {

namespace {
// Debian's aiosmtpd and python3-cryptography are installed for Debian's Python, whatever
// `python3` is on PATH.
constexpr const char* kPython = "/usr/bin/python3";
} // namespace

PythonHelper::PythonHelper(const std::string& what, const std::string& script,
                           const std::vector<std::string>& args, const std::string& logFile) {
    std::vector<std::string> argv{kPython, std::string(LATCHKEY_TEST_SOURCE_DIR) + "/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        throw std::runtime_error("pipe failed");
    }
    const int err = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ =
        spawnProcess(argv, {"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"}, in[0], out[1], err);
    ::close(in[0]);
    ::close(out[1]);
    if (err >= 0) ::close(err);
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
        stop(); // no destructor runs when the constructor throws
        throw std::runtime_error(what + " did not start: " + readFile(logFile));
    }
    firstLine_ = text.substr(0, text.find('\n'));
}

PythonHelper::~PythonHelper() {
    stop();
}

void PythonHelper::stop() noexcept {
    if (stdin_ >= 0) ::close(stdin_); // the script stops when its stdin closes
    stdin_ = -1;
    if (pid_ <= 0) return;
    for (int i = 0; i < 200; ++i) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

} // namespace latchkey::test
