// The host's implementations of the SDK services: clock, CSPRNG, logger, and the plugin context.
#include "runtime/services.hpp"

#include "runtime/host_config.hpp"

#include <sodium.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace latchkey::host {

std::chrono::system_clock::time_point SystemClock::now() const {
    return std::chrono::system_clock::now();
}

SodiumRandom::SodiumRandom() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

void SodiumRandom::fill(void* data, std::size_t size) {
    randombytes_buf(data, size);
}

SpdLogger::SpdLogger(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

namespace {
spdlog::level::level_enum toSpd(LogLevel level) {
    switch (level) {
    case LogLevel::Debug: return spdlog::level::debug;
    case LogLevel::Info: return spdlog::level::info;
    case LogLevel::Warn: return spdlog::level::warn;
    case LogLevel::Error: return spdlog::level::err;
    }
    return spdlog::level::info;
}
} // namespace

void SpdLogger::log(LogLevel level, std::string_view message) {
    log_->log(toSpd(level), "{}", message);
}

bool SpdLogger::enabled(LogLevel level) const {
    return log_->should_log(toSpd(level));
}

std::shared_ptr<spdlog::logger> makeLogger(const std::string& name, const std::string& level) {
    static const auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto log = std::make_shared<spdlog::logger>(name, sink);
    log->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] %v", spdlog::pattern_time_type::utc);
    log->set_level(spdlog::level::from_str(level));
    return log;
}

HostContext::HostContext(std::shared_ptr<spdlog::logger> log, const Clock& clock, Random& random,
                         ServiceLocator services, std::string publicUrl,
                         std::string configDirectory)
    : logger_(std::move(log)), clock_(clock), random_(random), services_(std::move(services)),
      publicUrl_(std::move(publicUrl)), configDirectory_(std::move(configDirectory)) {}

std::string HostContext::resolvePath(std::string_view path) const {
    return resolveAgainst(configDirectory_, std::string(path));
}

} // namespace latchkey::host
