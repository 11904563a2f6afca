// The login-token plugin's settings.
#include "settings.hpp"

#include <algorithm>

#include <latchkey/support/config_reader.hpp>

#include <cctype>

namespace latchkey::plugins::buzz {

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

/// The default invitation mail.
const MailTemplate& inviteTemplate() {
    static const MailTemplate kInvite{
        "Your account is ready: choose a password",
        "Hello {{first_name}},\n\n"
        "An account was created for you ({{email}}). Choose your password here:\n\n"
        "{{link}}\n\n"
        "The link works once and expires on {{expires}}.\n",
        "<p>Hello {{first_name}},</p>"
        "<p>An account was created for you ({{email}}). "
        "<a href=\"{{link}}\">Choose your password</a>.</p>"
        "<p>The link works once and expires on {{expires}}.</p>"};
    return kInvite;
}

/// The default lost-password mail.
const MailTemplate& resetTemplate() {
    static const MailTemplate kReset{
        "Choose a new password",
        "Hello {{first_name}},\n\n"
        "Someone asked to reset the password of {{email}}. If it was you, choose a new one "
        "here:\n\n"
        "{{link}}\n\n"
        "The link works once and expires on {{expires}}. If it was not you, ignore this message.\n",
        "<p>Hello {{first_name}},</p>"
        "<p>Someone asked to reset the password of {{email}}. If it was you, "
        "<a href=\"{{link}}\">choose a new password</a>.</p>"
        "<p>The link works once and expires on {{expires}}. If it was not you, ignore this "
        "message.</p>"};
    return kReset;
}

MailTemplate readTemplate(ConfigReader& parent, const char* key, const MailTemplate& fallback) {
    const ConfigValue* node = parent.child(key);
    if (!node) return fallback;
    ConfigReader r(*node, parent.errors());
    MailTemplate t;
    t.subject = r.string("subject", fallback.subject);
    t.text = r.string("text", fallback.text);
    t.html = r.string("html", fallback.html);
    r.finish();
    return t;
}

bool isInstanceName(const std::string& name) {
    if (name.size() < 5 || name.size() > 64 || !std::islower(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    return std::ranges::all_of(name, [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

} // namespace

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    if (const ConfigValue* at = r.child("mount"); at && at->kind() == ConfigValue::Kind::Sequence) {
        s.mounts = r.strings("mount");
        if (s.mounts.empty()) errors.add(*at, "lists no path");
    } else {
        s.mounts = {r.string("mount", s.mount)};
    }
    const auto under = [](const std::string& path, const std::string& prefix) {
        return path.size() > prefix.size() && path.rfind(prefix, 0) == 0 &&
               path[prefix.size()] == '/';
    };
    for (const std::string& mount : s.mounts) {
        const ConfigValue* at = r.child("mount");
        if (mount.size() < 2 || mount.front() != '/' || mount.back() == '/' ||
            mount.find_first_of("{}?#% ") != std::string::npos || mount == "/v1.1" ||
            under(mount, "/v1.1")) {
            errors.add(at ? *at : node, "\"" + mount +
                                            "\" must be a path like /rest (no trailing slash, "
                                            "not under /v1.1)");
        }
        for (const std::string& other : s.mounts) {
            if (&other != &mount && (other == mount || under(mount, other))) {
                errors.add(at ? *at : node,
                           "\"" + mount + "\" is " +
                               (other == mount ? "listed twice" : "under \"" + other + "\""));
            }
        }
    }
    if (!s.mounts.empty()) s.mount = s.mounts.front();
    s.instance = r.string("instance", s.instance);
    if (!isInstanceName(s.instance)) {
        const ConfigValue* at = r.child("instance");
        errors.add(at ? *at : node,
                   "must be an instance name: 5 to 64 of a-z 0-9 - _, starting with a letter");
    }
    // Short minimums so tests (and the curious) can watch tokens and sessions expire.
    const milliseconds second(1000);
    s.inviteTtl = r.duration("invite_ttl", s.inviteTtl, second, hours(24 * 30));
    s.resetTtl = r.duration("reset_ttl", s.resetTtl, second, hours(24 * 7));
    if (const ConfigValue* session = r.child("session")) {
        ConfigReader sr(*session, errors);
        s.sessionIdle = sr.duration("idle", s.sessionIdle, second, hours(24 * 30));
        s.sessionAbsolute = sr.duration("absolute", s.sessionAbsolute, second, hours(24 * 365));
        s.sessionRemember = sr.duration("remember", s.sessionRemember, second, hours(24 * 365));
        sr.finish();
    }
    s.cookieName = r.string("cookie_name", s.cookieName);
    for (const char c : s.cookieName) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
            errors.add(*r.child("cookie_name"), "must be letters, digits, '_' or '-'");
            break;
        }
    }
    s.tokenAttempts = r.integer("token_attempts", s.tokenAttempts, 1, 100);
    s.tokenAccountAttempts = r.integer("token_account_attempts", s.tokenAccountAttempts, 1, 100000);
    s.tokenClientAttempts = r.integer("token_client_attempts", s.tokenClientAttempts, 1, 1000000);
    s.tokenLockout = r.duration("token_lockout", s.tokenLockout, second, hours(24));
    s.resetCooldown = r.duration("reset_cooldown", s.resetCooldown, milliseconds(0), hours(24));
    if (const ConfigValue* superUser = r.child("super_user")) {
        ConfigReader sr(*superUser, errors);
        s.superUserEmail = sr.string("email");
        s.superUserPassword = sr.string("password");
        sr.finish();
        if (!s.superUserEmail.empty() && s.superUserPassword.empty()) {
            errors.addUnder(*superUser, "password",
                            "is required with email (there is no default password)");
        }
    }
    if (const ConfigValue* roles = r.child("roles")) {
        if (roles->kind() != ConfigValue::Kind::Sequence) {
            errors.add(*roles, "expected a list of roles");
        } else {
            for (const auto& item : roles->items()) {
                ConfigReader rr(item, errors);
                RoleSeed role;
                role.id = rr.integer("id", 0, 1, 1'000'000);
                role.name = rr.requiredString("name");
                if (const ConfigValue* parent = rr.child("parent")) {
                    if (const auto id = detail::parseInt(parent->scalar()))
                        role.parent = *id;
                    else
                        errors.add(*parent, "expected a role id");
                }
                if (const ConfigValue* permissions = rr.child("permissions")) {
                    ConfigReader pr(*permissions, errors);
                    for (const auto& [object, value] : permissions->entries()) {
                        role.permissions[object] = pr.integer(object, 0, 0, 15);
                    }
                    pr.finish();
                }
                rr.finish();
                if (role.id == 0) errors.addUnder(item, "id", "is required (a whole number >= 1)");
                s.roles.push_back(std::move(role));
            }
        }
    }
    if (const ConfigValue* mail = r.child("mail")) {
        ConfigReader mr(*mail, errors);
        s.mailFrom = mr.string("from");
        s.mailQueue = static_cast<std::size_t>(mr.integer("queue", 100, 2, 100000));
        s.mailDrain = mr.duration("drain", s.mailDrain, milliseconds(0), std::chrono::minutes(10));
        s.invite = readTemplate(mr, "invite", inviteTemplate());
        s.reset = readTemplate(mr, "reset", resetTemplate());
        mr.finish();
    } else {
        s.invite = inviteTemplate();
        s.reset = resetTemplate();
    }
    r.finish();
    return s;
}

} // namespace latchkey::plugins::buzz
