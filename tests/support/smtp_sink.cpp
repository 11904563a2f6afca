// A real SMTP server for tests: tests/support/smtp_sink.py (aiosmtpd) run as a child process.
#include "support/smtp_sink.hpp"

#include "support/temp_dir.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace latchkey::test {

namespace {
std::vector<std::string> arguments(const TempDir& dir, const SmtpSink::Options& options) {
    std::vector<std::string> args{"--dir", dir.file("mail")};
    if (!options.user.empty()) {
        args.insert(args.end(), {"--user", options.user, "--password", options.password});
    }
    if (!options.cert.empty()) {
        args.insert(args.end(), {"--cert", options.cert, "--key", options.key});
        if (options.implicitTls) args.emplace_back("--implicit-tls");
    }
    if (options.failFirst > 0) {
        args.insert(args.end(), {"--fail-first", std::to_string(options.failFirst)});
    }
    if (options.delaySeconds > 0) {
        args.insert(args.end(), {"--delay", std::to_string(options.delaySeconds)});
    }
    return args;
}
} // namespace

SmtpSink::SmtpSink(const Options& options)
    : script_("the SMTP sink", "tests/support/smtp_sink.py", arguments(dir_, options),
              dir_.file("sink.log")),
      port_(static_cast<std::uint16_t>(std::stoi(script_.firstLine().substr(5)))) {}

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

std::pair<std::string, std::string> selfSignedCertificate(const TempDir& dir,
                                                          const std::string& subjectAltName) {
    std::string stem = subjectAltName;
    std::replace_if(
        stem.begin(), stem.end(),
        [](char c) { return std::isalnum(static_cast<unsigned char>(c)) == 0; }, '-');
    const std::string cert = dir.file(stem + "-cert.pem");
    const std::string key = dir.file(stem + "-key.pem");
    const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
                                "/CN=latchkey-test -addext 'subjectAltName=" +
                                subjectAltName + "' -keyout '" + key + "' -out '" + cert +
                                "' > /dev/null 2>&1";
    if (std::system(command.c_str()) != 0) { // NOLINT(concurrency-mt-unsafe)
        throw std::runtime_error("openssl could not make a test certificate");
    }
    return {cert, key};
}

} // namespace latchkey::test
