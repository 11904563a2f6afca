// The `password` hasher plugin: argon2id hashing and the password policy for the host.
#include "argon2_hasher.hpp"

#include <latchkey/context.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/support/config_reader.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <thread>

namespace latchkey::plugins {

namespace {

constexpr const char* kMinLengthEnv = "LATCHKEY_MIN_PASSWORD_LENGTH";
// libsodium's own floor for argon2id memory is 8 KiB; below 1 MiB the hash is too cheap to be
// worth its name even for tests.
constexpr std::uint64_t kMinMemory = 1ULL << 20;

struct Settings {
    PasswordPolicy policy;
    std::size_t workers = 0; ///< 0: one per core.
    std::size_t queue = 64;
    int nice = 10; ///< The hashing threads' niceness: requests that need no hashing go first.
};

/// The env override of min_length, or nullopt; a malformed value is a config error.
std::optional<std::size_t> minLengthFromEnv(const ConfigValue& node, ConfigErrors& errors) {
    // Read while the host starts, before request threads exist.
    const char* value = std::getenv(kMinLengthEnv); // NOLINT(concurrency-mt-unsafe)
    if (!value || !*value) return std::nullopt;
    const auto parsed = detail::parseInt(value);
    if (!parsed || *parsed < 1 || *parsed > 1024) {
        errors.add(node, std::string("environment variable ") + kMinLengthEnv +
                             " must be a whole number from 1 to 1024, got \"" + value + "\"");
        return std::nullopt;
    }
    return static_cast<std::size_t>(*parsed);
}

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.policy.minLength = static_cast<std::size_t>(r.integer("min_length", 8, 1, 1024));
    s.policy.maxLength = static_cast<std::size_t>(r.integer("max_length", 128, 64, 4096));
    s.policy.minGuessBits = static_cast<double>(r.integer("min_guess_bits", 20, 0, 64));
    if (auto fromEnv = minLengthFromEnv(node, errors)) s.policy.minLength = *fromEnv;
    if (s.policy.minLength > s.policy.maxLength) {
        errors.add(node, "min_length must not exceed max_length");
    }
    if (const ConfigValue* argon = r.child("argon2")) {
        ConfigReader a(*argon, errors);
        s.policy.memoryBytes = a.bytes("memory", s.policy.memoryBytes, kMinMemory, 4ULL << 30);
        s.policy.iterations = static_cast<std::uint64_t>(a.integer("iterations", 2, 1, 64));
        a.finish();
    }
    s.workers = static_cast<std::size_t>(r.integer("workers", 0, 0, 256));
    s.queue = static_cast<std::size_t>(r.integer("queue", 64, 1, 100000));
    s.nice = static_cast<int>(r.integer("nice", 10, 0, 19));
    r.finish();
    return s;
}

std::size_t workersFor(const Settings& settings) {
    return settings.workers != 0 ? settings.workers
                                 : std::max(1U, std::thread::hardware_concurrency());
}

class PasswordPlugin final : public Provides<PasswordHasher> {
public:
    using Settings = plugins::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    PasswordPlugin(PluginContext& context, Settings settings)
        : hasher_(settings.policy, workersFor(settings), settings.queue, settings.nice) {
        const Settings& s = settings;
        const bool belowOwasp = s.policy.memoryBytes < (19ULL << 20) || s.policy.iterations < 2;
        context.logger().info(
            "argon2id m=" + std::to_string(s.policy.memoryBytes >> 10) + "KiB t=" +
            std::to_string(s.policy.iterations) + " p=1, " + std::to_string(workersFor(s)) +
            " workers, queue " + std::to_string(s.queue) + ", nice " + std::to_string(s.nice) +
            ", passwords " + std::to_string(s.policy.minLength) + "-" +
            std::to_string(s.policy.maxLength) + " characters" +
            (s.policy.minGuessBits > 0
                 ? " and at least 2^" + std::to_string(static_cast<int>(s.policy.minGuessBits)) +
                       " guesses"
                 : std::string(", common passwords allowed")));
        if (belowOwasp) {
            context.logger().warn("argon2id parameters are below OWASP's minimum (m=19MiB, t=2)");
        }
        context.metrics().gauge(
            "latchkey_password_pool_waiting",
            "Password hashes and checks queued for an argon2id worker (at password.queue the "
            "next is refused: latchkey_password_hashes_shed_total).",
            [this] { return static_cast<double>(hasher_.waiting()); });
    }

    std::vector<std::string> checkPolicy(std::string_view password) const override {
        return hasher_.checkPolicy(password);
    }
    std::string hash(std::string_view password) override { return hasher_.hash(password); }
    PasswordCheck verify(std::string_view password, std::string_view stored) override {
        return hasher_.verify(password, stored);
    }

private:
    Argon2Hasher hasher_;
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::PasswordPlugin, "password", Hasher, "1.0.0",
                "argon2id password hashing (libsodium) in a bounded pool, with the password policy",
                "stable; trusts libsodium; hashes never leave the store")
