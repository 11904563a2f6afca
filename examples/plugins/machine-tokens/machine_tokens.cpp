// `machine-tokens`: a flow plugin for services, not people. Each machine gets a long
// random token; the config holds only its SHA-256, with a name and scopes. A service asks who
// it is with `GET <mount>/whoami` and `Authorization: Bearer <token>`.
//
//   auth:
//     machine-tokens:
//       mount: /machine
//       tokens:
//         - name: deployer
//           sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//           scopes: [deploy, read]
//
// Make a token and its hash:  t=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d =)
//                             printf %s "$t" | sha256sum
#include <latchkey/context.hpp>
#include <latchkey/errors.hpp>
#include <latchkey/flow.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/router.hpp>
#include <latchkey/support/config_reader.hpp>
#include <latchkey/support/json_writer.hpp>

#include <sodium.h>

#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace example {

using namespace latchkey;

struct Machine {
    std::string name;
    std::array<unsigned char, crypto_hash_sha256_BYTES> hash{};
    std::vector<std::string> scopes;
};

struct Settings {
    std::string mount = "/machine";
    std::vector<Machine> machines;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.mount = r.string("mount", s.mount);
    if (s.mount.empty() || s.mount.front() != '/' || s.mount.back() == '/') {
        errors.add(r.child("mount") ? *r.child("mount") : node,
                   "must start with / and not end with one");
    }
    const ConfigValue* tokens = r.child("tokens");
    if (!tokens || tokens->kind() != ConfigValue::Kind::Sequence || tokens->items().empty()) {
        errors.addUnder(node, "tokens", "is required: a list of {name, sha256, scopes}");
    } else {
        for (const ConfigValue& item : tokens->items()) {
            ConfigReader t(item, errors);
            Machine m;
            m.name = t.requiredString("name");
            const std::string hex = t.requiredString("sha256");
            std::size_t length = 0;
            if (hex.size() != 2 * m.hash.size() ||
                sodium_hex2bin(m.hash.data(), m.hash.size(), hex.data(), hex.size(), nullptr,
                               &length, nullptr) != 0 ||
                length != m.hash.size()) {
                if (const ConfigValue* v = t.child("sha256")) {
                    errors.add(*v, "must be 64 hex digits (the SHA-256 of the token)");
                }
            }
            if (t.child("scopes")) m.scopes = t.strings("scopes");
            for (const auto& other : s.machines) {
                // One token, one machine: a repeated hash or name is a mistake in the config.
                if (!m.name.empty() && other.name == m.name) {
                    errors.add(*t.child("name"), "names another token already");
                }
                if (sodium_memcmp(other.hash.data(), m.hash.data(), m.hash.size()) == 0 &&
                    t.child("sha256")) {
                    errors.add(*t.child("sha256"), "is the hash of another token already");
                }
            }
            t.finish();
            s.machines.push_back(std::move(m));
        }
    }
    r.finish();
    return s;
}

class MachineTokens final : public Provides<Flow> {
public:
    using Settings = example::Settings;

    /// The host runs this once, before creating anything; its result is what the constructor
    /// gets.
    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return example::readSettings(node, errors);
    }

    MachineTokens(PluginContext& context, Settings settings)
        : context_(context), settings_(std::move(settings)),
          // Made once and kept: GET /metrics shows them with plugin="machine-tokens" (SDK 2.5).
          accepted_(checks(context, "accepted")), refused_(checks(context, "refused")) {
        if (sodium_init() < 0) throw std::runtime_error("libsodium failed to start");
    }

    void mount(Router& router) override {
        router.add("GET", settings_.mount + "/whoami", [this](const Request& request) {
            const Machine& machine = authenticate(request);
            JsonWriter out;
            out.beginObject().key("name").value(machine.name).key("scopes").beginArray();
            for (const auto& scope : machine.scopes)
                out.value(scope);
            out.endArray().endObject();
            return Response::json(200, out.take());
        });
        // The check is CPU only (a hash and comparisons): the host may run it on the network
        // thread that read the request, without a hand-over to a worker (SDK 2.2).
        router.allowInline("GET", settings_.mount + "/whoami");
    }

private:
    /// The machine whose token the request carries, or 401. Every configured hash is compared,
    /// in constant time each, so the answer's timing says nothing about which ones were close.
    const Machine& authenticate(const Request& request) const {
        const auto header = request.header("Authorization");
        // The scheme is case-insensitive (RFC 9110 11.1).
        const std::string_view prefix = "bearer ";
        if (!header || header->size() <= prefix.size()) refuse();
        for (std::size_t i = 0; i < prefix.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>((*header)[i])) != prefix[i]) refuse();
        }
        const std::string_view token = header->substr(prefix.size());
        if (token.empty()) refuse();
        std::array<unsigned char, crypto_hash_sha256_BYTES> hash{};
        crypto_hash_sha256(hash.data(), reinterpret_cast<const unsigned char*>(token.data()),
                           token.size());
        const Machine* found = nullptr;
        for (const auto& machine : settings_.machines) {
            if (sodium_memcmp(hash.data(), machine.hash.data(), hash.size()) == 0) {
                found = &machine;
            }
        }
        if (!found) {
            refused_.add();
            context_.logger().info("machine token refused");
            refuse();
        }
        accepted_.add();
        return *found;
    }

    static MetricCounter& checks(PluginContext& context, const char* outcome) {
        return context.metrics().counter(
            "latchkey_machine_tokens_checks_total",
            "Bearer tokens checked against the configured hashes, by outcome: accepted, refused.",
            {{"outcome", outcome}});
    }

    [[noreturn]] static void refuse() {
        throw HttpError(401, "Invalid token.", {}, {{"WWW-Authenticate", "Bearer"}});
    }

    PluginContext& context_;
    Settings settings_;
    MetricCounter& accepted_;
    MetricCounter& refused_;
};

} // namespace example

LATCHKEY_PLUGIN(example::MachineTokens, "machine-tokens", Flow, "1.0.0",
                "Static bearer tokens for services, stored as SHA-256 hashes",
                "example; tokens must be long random values (a SHA-256 of a guessable one can "
                "be brute-forced from the config)")
