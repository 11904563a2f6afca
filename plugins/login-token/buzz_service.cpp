// The Buzz `/rest` login-token flow: invited users, single-use mailed tokens, cookie sessions,
// roles, and the lost-password path, on the users of one instance.
#include "buzz_service.hpp"

#include "set_password_page.hpp"

#include <latchkey/mailer.hpp>
#include <latchkey/support/text.hpp>
#include <latchkey/support/time.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace latchkey::plugins::buzz {

namespace {

constexpr int kWriteAttempts = 5;
/// Sessions are touched at most this often: a write per request would be a write per request.
constexpr Micros kTouchEvery = 60'000'000;
/// How often stale sessions are swept.
constexpr Micros kCleanupEvery = 600'000'000;

Micros toMicros(std::chrono::milliseconds d) {
    return d.count() * 1000;
}

/// One plain address: something@something, no spaces or control characters, at most 254.
bool isEmail(const std::string& email) {
    const auto at = email.find('@');
    if (email.size() > 254 || at == std::string::npos || at == 0 || at + 1 == email.size() ||
        email.find('@', at + 1) != std::string::npos) {
        return false;
    }
    return std::ranges::none_of(email, [](char c) {
        return static_cast<unsigned char>(c) <= 32 || c == ',' || c == ';' || c == '<' ||
               c == '>' || c == '"' || c == '\\' || c == 127;
    });
}

std::string hashHex(std::string_view text) {
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()),
                       text.size(), nullptr, 0);
    char hex[sizeof hash * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    return hex;
}

std::string isoTime(Micros micros) {
    const auto seconds = static_cast<std::time_t>(micros / 1'000'000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

std::string htmlEscape(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

/// Replaces each {{name}} of `text` once, left to right: a value is never expanded again, so
/// a first name of "{{link}}" stays that text. Unknown names stay as they are.
std::string fill(const std::string& text, const std::map<std::string, std::string>& values) {
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto open = text.find("{{", at);
        const auto close = open == std::string::npos ? open : text.find("}}", open + 2);
        if (close == std::string::npos) break;
        out.append(text, at, open - at);
        const auto value = values.find(text.substr(open + 2, close - open - 2));
        if (value != values.end()) {
            out += value->second;
        } else {
            out.append(text, open, close + 2 - open);
        }
        at = close + 2;
    }
    out.append(text, std::min(at, text.size()));
    return out;
}

bool hasControl(const std::string& text, bool allowLines) {
    return std::any_of(text.begin(), text.end(), [allowLines](char c) {
        const auto u = static_cast<unsigned char>(c);
        if (allowLines && (c == '\n' || c == '\r' || c == '\t')) return false;
        return u < 32 || u == 127;
    });
}

/// A one-line name: at most 128 bytes, no control characters.
void checkName(Body& body, const char* field, const std::string& value) {
    if (value.size() > 128) body.fail(field, "may be at most 128 characters");
    if (hasControl(value, false)) body.fail(field, "may not contain control characters");
}

Attributes parseAttributes(const std::string& text) {
    Poco::JSON::Parser parser;
    const auto object = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
    Attributes a;
    a.firstName = object->optValue<std::string>("first_name", "");
    a.lastName = object->optValue<std::string>("last_name", "");
    a.notes = object->optValue<std::string>("notes", "");
    if (object->has("role_id") && !object->isNull("role_id")) {
        a.roleId = object->getValue<Poco::Int64>("role_id");
    }
    a.active = object->optValue<bool>("active", false);
    a.superUser = object->optValue<bool>("super_user", false);
    return a;
}

std::string serializeAttributes(const Attributes& a) {
    JsonWriter out;
    out.beginObject()
        .field("first_name", a.firstName)
        .field("last_name", a.lastName)
        .field("notes", a.notes)
        .field("role_id", a.roleId)
        .field("active", a.active)
        .field("super_user", a.superUser)
        .endObject();
    return out.take();
}

Role parseRole(std::int64_t id, const std::string& text) {
    Poco::JSON::Parser parser;
    const auto object = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
    Role role;
    role.id = id;
    role.name = object->optValue<std::string>("role_name", "");
    if (object->has("parent_role_id") && !object->isNull("parent_role_id")) {
        role.parent = object->getValue<Poco::Int64>("parent_role_id");
    }
    role.active = object->optValue<bool>("active", true);
    if (const auto permissions = object->getObject("permissions")) {
        for (const auto& [name, bits] : *permissions) {
            // A value that is not 0..15 grants nothing rather than failing every request.
            try {
                const auto value = bits.convert<Poco::Int64>();
                if (value >= 0 && value <= 15) role.permissions[name] = value;
            } catch (const Poco::Exception&) {}
        }
    }
    return role;
}

/// A role as JSON; the stored form leaves out the id (it is in the key).
void writeRole(JsonWriter& out, const Role& role, bool withId = true) {
    out.beginObject();
    if (withId) out.field("role_id", role.id);
    out.field("role_name", role.name)
        .field("parent_role_id", role.parent)
        .field("active", role.active);
    out.key("permissions").beginObject();
    for (const auto& [object, bits] : role.permissions)
        out.field(object, bits);
    out.endObject().endObject();
}

std::string serializeRole(const Role& role) {
    JsonWriter out;
    writeRole(out, role, false);
    return out.take();
}

std::optional<std::int64_t> parseInt(const std::string& text) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return n;
}

/// The Buzz envelope for a success: {"success": true, "message": ..., "payload": ...}.
Response envelope(int status, const std::string& message,
                  const std::function<void(JsonWriter&)>& payload = nullptr) {
    JsonWriter out;
    out.beginObject().field("success", true).field("message", message);
    if (payload) {
        out.key("payload");
        payload(out);
    }
    out.endObject();
    return Response::json(status, out.take());
}

Response idEnvelope(int status, const std::string& message, Id id) {
    return envelope(status, message,
                    [id](JsonWriter& out) { out.beginObject().field("id", id).endObject(); });
}

void writeMember(JsonWriter& out, const Member& m) {
    // Never the password or a login token: the original API returned both; this one does not.
    out.beginObject()
        .field("user_id", m.user.id)
        .field("super_user", m.attributes.superUser)
        .field("email", m.user.username)
        .field("first_name", m.attributes.firstName)
        .field("last_name", m.attributes.lastName)
        .field("role_id", m.attributes.roleId)
        .field("active", m.attributes.active)
        .field("create_date", isoTime(m.user.createdAt))
        .field("update_date", isoTime(m.user.updatedAt))
        .field("notes", m.attributes.notes)
        .endObject();
}

HttpError unauthenticated() {
    return HttpError(401, "You are not logged in.");
}

/// A storage facet the plugin declared (plugin.cpp); the host checked the driver has it.
template <class Facet>
Facet& need(PluginContext& context) {
    auto* facet = context.storage<Facet>();
    if (!facet) throw std::runtime_error(std::string("no storage facet ") + Facet::kInterfaceId);
    return *facet;
}

} // namespace

BuzzService::BuzzService(PluginContext& context, Settings settings)
    : context_(context), settings_(std::move(settings)), users_(need<Users>(context)),
      sessions_(need<Sessions>(context)), tokens_(need<LoginTokens>(context)),
      values_(context.values()), mailer_(context.mailer()),
      secureCookies_(context.publicUrl().rfind("https://", 0) == 0) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    jobs_ = std::make_unique<BackgroundJobs>(settings_.mailQueue, [this](const std::string& what) {
        context_.logger().error("background job failed: " + what);
    });
}

BuzzService::~BuzzService() {
    // Mail already queued still goes out (those users wait for it), for at most mail.drain.
    const std::size_t dropped = jobs_->shutdown(settings_.mailDrain);
    if (dropped > 0) {
        context_.logger().warn(std::to_string(dropped) +
                               " queued mails dropped at shutdown (mail.drain passed)");
    }
}

void BuzzService::onUserEvent(const UserEvent& event) {
    if (event.instanceId != instance_.id) return; // this flow serves one instance
    switch (event.kind) {
    case UserEventKind::PasswordChanged:
        // Sessions opened with the old password end with it, whoever set the new one.
        sessions_.deleteUserSessions(event.userId);
        break;
    case UserEventKind::UserDeleted:
        // The store deleted the user's sessions and tokens; the attributes are this flow's.
        values_.remove(attributesKey(event.userId));
        break;
    case UserEventKind::InstanceDeleted: {
        const std::string id = std::to_string(event.instanceId);
        for (const char* kind : {"user/", "role/", "fails/", "cooldown/"}) {
            for (const auto& entry : values_.list(kind + id + "/"))
                values_.remove(entry.first);
        }
        values_.remove("role-sequence/" + id);
        break;
    }
    }
}

Micros BuzzService::now() const {
    return nowMicros(context_.clock());
}

std::string BuzzService::randomToken(std::size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    context_.random().fill(raw.data(), raw.size());
    std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
    sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.find('\0'));
    return out;
}

// --- start ------------------------------------------------------------------------------------

void BuzzService::mount(Router& router) {
    hasher_ = context_.passwordHasher();
    if (!hasher_) throw std::runtime_error("the login-token flow needs a password hasher");
    instance_ = context_.ensureInstance(settings_.instance);
    for (const auto& seed : settings_.roles) {
        Role role;
        role.id = seed.id;
        role.name = seed.name;
        role.parent = seed.parent;
        role.permissions = seed.permissions;
        // The config is the source of truth for its roles.
        values_.put(roleKey(role.id), serializeRole(role));
    }
    bootstrapSuperUser();

    const std::string m = settings_.mount;
    router.setErrorRenderer(m, [](const HttpError& error) {
        JsonWriter out;
        out.beginObject().field("success", false).key("errors").beginArray();
        if (error.fieldErrors().empty()) {
            out.value(error.detail());
        } else {
            for (const auto& [field, messages] : error.fieldErrors()) {
                for (const auto& message : messages)
                    out.value(field + ": " + message);
            }
        }
        out.endArray().endObject();
        Response response = Response::json(error.status(), out.take());
        response.headers = error.headers();
        return response;
    });
    const auto bind = [this](Response (BuzzService::*handler)(const Request&)) {
        return [this, handler](const Request& request) { return (this->*handler)(request); };
    };
    // Routes that hash or verify a password run in the hashing lane, so a login flood is shed
    // there and never takes the workers cookie lookups need.
    const LaneSelector hashing = inLane(Lane::Hashing);
    router.addInLane("POST", m + "/authenticate", hashing, bind(&BuzzService::authenticate));
    router.addInLane("PUT", m + "/authenticate", hashing, bind(&BuzzService::changeOwnPassword));
    router.add("DELETE", m + "/authenticate", bind(&BuzzService::logout));
    router.addInLane("POST", m + "/user", hashingIfPasswordMayBeSet,
                     bind(&BuzzService::createUser));
    router.add("GET", m + "/user", bind(&BuzzService::listUsers));
    router.addInLane("PUT", m + "/user", hashingIfPasswordMayBeSet, bind(&BuzzService::updateUser));
    router.add("DELETE", m + "/user", bind(&BuzzService::deleteUser));
    router.add("POST", m + "/resend_user_email", bind(&BuzzService::resendUserEmail));
    router.addInLane("PUT", m + "/change_password", hashingIfPasswordMayBeSet,
                     bind(&BuzzService::changePassword));
    router.addInLane("POST", m + "/change_password", hashingIfPasswordMayBeSet,
                     bind(&BuzzService::changePassword));
    router.add("GET", m + "/role", bind(&BuzzService::listRoles));
    router.add("POST", m + "/role", bind(&BuzzService::createRole));
    router.add("PUT", m + "/role", bind(&BuzzService::updateRole));
    router.add("DELETE", m + "/role", bind(&BuzzService::deleteRole));
    router.add("GET", m + "/set-password", [this](const Request&) {
        return setPasswordPage(settings_.mount + "/change_password", randomToken(18));
    });
    context_.logger().info("login-token flow at " + m + " for instance " + instance_.name);
}

void BuzzService::bootstrapSuperUser() {
    if (settings_.superUserEmail.empty()) return;
    const std::string email = asciiLower(settings_.superUserEmail);
    if (findByEmail(email)) return; // an existing user is never changed from the config
    const auto problems = hasher_->checkPolicy(settings_.superUserPassword);
    if (!problems.empty()) throw std::runtime_error("super_user.password: " + problems.front());
    UserRecord user;
    user.instanceId = instance_.id;
    user.username = email;
    user.passwordHash = hasher_->hash(settings_.superUserPassword);
    user.key = context_.newUserKey();
    user.createdAt = user.updatedAt = user.profile.createdAt = user.profile.updatedAt = now();
    try {
        user = users_.createUser(user);
    } catch (const Conflict&) {
        return; // another host made it at the same moment
    }
    Attributes attributes;
    attributes.active = true;
    attributes.superUser = true;
    createAttributes(user.id, attributes);
    context_.logger().info("created the first super user " + email);
}

// --- users and attributes ---------------------------------------------------------------------

std::string BuzzService::attributesKey(Id userId) const {
    char key[64];
    std::snprintf(key, sizeof key, "user/%" PRId64 "/%020" PRId64, instance_.id, userId);
    return key;
}

std::optional<Attributes> BuzzService::loadAttributes(Id userId) {
    const auto stored = values_.get(attributesKey(userId));
    if (!stored) return std::nullopt;
    return parseAttributes(*stored);
}

void BuzzService::createAttributes(Id userId, const Attributes& attributes) {
    values_.put(attributesKey(userId), serializeAttributes(attributes));
}

bool BuzzService::updateValue(const std::string& key, const ValueChange& change) {
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
        const auto current = values_.get(key);
        const auto next = change(current);
        if (!next) return false;
        const bool written =
            current ? values_.compareAndSet(key, *current, *next) : values_.putIfAbsent(key, *next);
        if (written) return true;
    }
    throw HttpError(409, "The record changed while it was being written; retry.");
}

Attributes BuzzService::updateAttributes(Id userId,
                                         const std::function<void(Attributes&)>& change) {
    Attributes result;
    updateValue(attributesKey(userId),
                [&](const std::optional<std::string>& current) -> std::optional<std::string> {
                    if (!current) throw HttpError(404, "No such user.");
                    result = parseAttributes(*current);
                    change(result);
                    return serializeAttributes(result);
                });
    return result;
}

std::size_t BuzzService::countActiveSuperUsers() {
    std::size_t count = 0;
    const std::string prefix = "user/" + std::to_string(instance_.id) + "/";
    for (const auto& [key, value] : values_.list(prefix)) {
        const Attributes a = parseAttributes(value);
        if (a.superUser && a.active) ++count;
    }
    return count;
}

void BuzzService::checkAttributes(Body& body, const Attributes& a) {
    checkName(body, "first_name", a.firstName);
    checkName(body, "last_name", a.lastName);
    if (a.notes.size() > 4096) body.fail("notes", "may be at most 4096 characters");
    if (hasControl(a.notes, true)) body.fail("notes", "may not contain control characters");
}

std::optional<Member> BuzzService::findByEmail(const std::string& email) {
    auto user = users_.findUserByUsername(instance_.id, asciiLower(email));
    if (!user) return std::nullopt;
    auto attributes = loadAttributes(user->id);
    if (!attributes) return std::nullopt; // an instance user that is not part of this flow
    return Member{std::move(*user), std::move(*attributes)};
}

std::optional<Member> BuzzService::findById(Id userId) {
    auto user = users_.findUserById(instance_.id, userId);
    if (!user) return std::nullopt;
    auto attributes = loadAttributes(user->id);
    if (!attributes) return std::nullopt;
    return Member{std::move(*user), std::move(*attributes)};
}

UserRecord BuzzService::setPasswordHash(Id userId, const std::string& passwordHash) {
    const SealedKey key = context_.newUserKey();
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
        auto user = users_.findUserById(instance_.id, userId);
        if (!user) throw HttpError(404, "No such user.");
        const Micros expected = user->updatedAt;
        user->passwordHash = passwordHash;
        user->key = key; // a new password gives a new v1.1 user key too
        user->updatedAt = std::max(now(), expected + 1);
        if (users_.updateUser(*user, expected)) {
            // A new password ends every session of the old one.
            sessions_.deleteUserSessions(userId);
            return *user;
        }
    }
    throw HttpError(409, "The user changed while the password was being set; retry.");
}

void BuzzService::endAccess(Id userId) {
    tokens_.revokeLoginTokens(userId);
    sessions_.deleteUserSessions(userId);
}

// --- roles ------------------------------------------------------------------------------------

std::string BuzzService::roleKey(std::int64_t id) const {
    char key[64];
    std::snprintf(key, sizeof key, "role/%" PRId64 "/%020" PRId64, instance_.id, id);
    return key;
}

std::vector<Role> BuzzService::roles() {
    std::vector<Role> out;
    const std::string prefix = "role/" + std::to_string(instance_.id) + "/";
    for (const auto& [key, value] : values_.list(prefix)) {
        if (const auto id = parseInt(key.substr(prefix.size()))) {
            out.push_back(parseRole(*id, value));
        }
    }
    return out;
}

std::optional<Role> BuzzService::findRole(std::int64_t id) {
    const auto stored = values_.get(roleKey(id));
    if (!stored) return std::nullopt;
    return parseRole(id, *stored);
}

bool BuzzService::isConfigRole(std::int64_t id) const {
    return std::any_of(settings_.roles.begin(), settings_.roles.end(),
                       [id](const RoleSeed& seed) { return seed.id == id; });
}

std::int64_t BuzzService::nextRoleId() {
    // Past every id in use and every id handed out before, so a deleted role's id never comes
    // back to mean something else to a client that still holds it.
    std::int64_t floor = 0;
    for (const auto& role : roles())
        floor = std::max(floor, role.id);
    for (const auto& seed : settings_.roles)
        floor = std::max(floor, seed.id);
    std::int64_t id = 0;
    updateValue("role-sequence/" + std::to_string(instance_.id),
                [&](const std::optional<std::string>& current) -> std::optional<std::string> {
                    const std::int64_t last = current ? parseInt(*current).value_or(0) : 0;
                    id = std::max(last, floor) + 1;
                    return std::to_string(id);
                });
    return id;
}

void BuzzService::requirePermission(const Member& caller, const char* object, std::int64_t bit) {
    if (caller.attributes.superUser) return;
    if (caller.attributes.roleId) {
        const auto role = findRole(*caller.attributes.roleId);
        if (role && role->active) {
            const auto it = role->permissions.find(object);
            if (it != role->permissions.end() && (it->second & bit) != 0) return;
        }
    }
    throw HttpError(403, "You do not have permission to do that.");
}

bool BuzzService::coveredByOwnRole(const Member& caller, const Role& role) {
    std::optional<Role> own;
    if (caller.attributes.roleId) own = findRole(*caller.attributes.roleId);
    for (const auto& [object, bits] : role.permissions) {
        std::int64_t mine = 0;
        if (own && own->active) {
            if (const auto it = own->permissions.find(object); it != own->permissions.end()) {
                mine = it->second;
            }
        }
        if ((bits & ~mine) != 0) return false;
    }
    return true;
}

void BuzzService::requireOutranks(const Member& caller, const Member& target) {
    if (caller.attributes.superUser) return;
    if (target.attributes.superUser) {
        throw HttpError(403, "Only a super user may change a super user.");
    }
    if (!target.attributes.roleId) return;
    const auto role = findRole(*target.attributes.roleId);
    if (role && role->active && !coveredByOwnRole(caller, *role)) {
        throw HttpError(403, "You cannot change a user whose role has permissions you lack.");
    }
}

void BuzzService::requireAssignableRole(const Member& caller, std::int64_t roleId, Body& body) {
    const auto role = findRole(roleId);
    if (!role || !role->active) {
        body.fail("role_id", "must name an existing, active role");
        return;
    }
    if (!caller.attributes.superUser && !coveredByOwnRole(caller, *role)) {
        throw HttpError(403, "You cannot hand out a role with permissions you do not have.");
    }
}

// --- sessions ---------------------------------------------------------------------------------

std::optional<std::string> BuzzService::presentedSession(const Request& request) const {
    const auto cookies = request.header("Cookie");
    if (!cookies) return std::nullopt;
    const std::string prefix = settings_.cookieName + "=";
    std::string_view rest = *cookies;
    while (!rest.empty()) {
        const auto end = rest.find(';');
        std::string_view pair = rest.substr(0, end);
        while (!pair.empty() && pair.front() == ' ')
            pair.remove_prefix(1);
        if (pair.substr(0, prefix.size()) == prefix) {
            const std::string value(pair.substr(prefix.size()));
            if (!value.empty() && value.size() <= 128) return value;
        }
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    return std::nullopt;
}

Member BuzzService::requireSession(const Request& request, std::string* sessionHash) {
    const auto presented = presentedSession(request);
    if (!presented) throw unauthenticated();
    const std::string hash = hashHex(*presented);
    const auto session = sessions_.findSession(hash);
    const Micros t = now();
    if (!session || session->instanceId != instance_.id) throw unauthenticated();
    if (session->expiresAt <= t || t - session->lastSeenAt > toMicros(settings_.sessionIdle)) {
        sessions_.deleteSession(hash);
        throw unauthenticated();
    }
    auto member = findById(session->userId);
    if (!member || !member->attributes.active) throw unauthenticated();
    if (t - session->lastSeenAt > kTouchEvery) sessions_.touchSession(hash, t);
    if (sessionHash) *sessionHash = hash;
    return std::move(*member);
}

Header BuzzService::startSession(Id userId, bool remember) {
    const std::string id = randomToken(32);
    SessionRecord session;
    session.idHash = hashHex(id);
    session.instanceId = instance_.id;
    session.userId = userId;
    session.createdAt = session.lastSeenAt = now();
    session.expiresAt = session.createdAt +
                        toMicros(remember ? settings_.sessionRemember : settings_.sessionAbsolute);
    sessions_.createSession(session);
    maybeCleanup(session.createdAt);
    std::string cookie =
        settings_.cookieName + "=" + id + "; Path=" + settings_.mount + "; HttpOnly; SameSite=Lax";
    if (secureCookies_) cookie += "; Secure";
    if (remember) {
        cookie += "; Max-Age=" + std::to_string(settings_.sessionRemember.count() / 1000);
    }
    return {"Set-Cookie", cookie};
}

void BuzzService::maybeCleanup(Micros t) {
    Micros last = lastCleanup_.load();
    if (t - last < kCleanupEvery || !lastCleanup_.compare_exchange_strong(last, t)) return;
    jobs_->post(
        [this, t] {
            sessions_.deleteStaleSessions(t, t - toMicros(settings_.sessionIdle));
            // Failure counters and cooldowns whose window has passed.
            const auto sweep = [this, t](const std::string& prefix, Micros window,
                                         const char* field) {
                for (const auto& [key, value] : values_.list(prefix)) {
                    Poco::JSON::Parser parser;
                    const auto object = parser.parse(value).extract<Poco::JSON::Object::Ptr>();
                    // A failure recorded between the read and the delete is lost with it: at
                    // most a few more guesses at a 192-bit token, once per sweep.
                    if (t - object->optValue<Poco::Int64>(field, 0) >= window) {
                        values_.remove(key);
                    }
                }
            };
            const std::string instance = std::to_string(instance_.id) + "/";
            sweep("fails/" + instance, toMicros(settings_.tokenLockout), "since");
            sweep("cooldown/" + instance, toMicros(settings_.resetCooldown), "at");
        },
        true);
}

Header BuzzService::clearCookie() const {
    std::string cookie =
        settings_.cookieName + "=; Path=" + settings_.mount + "; HttpOnly; SameSite=Lax; Max-Age=0";
    if (secureCookies_) cookie += "; Secure";
    return {"Set-Cookie", cookie};
}

// --- tokens and mail --------------------------------------------------------------------------

std::string BuzzService::issueToken(const Member& member, const char* purpose,
                                    std::chrono::milliseconds ttl, Micros& expiresAt) {
    std::string token = randomToken(24); // 192 bits
    LoginTokenRecord record;
    record.tokenHash = hashHex(token);
    record.userId = member.user.id;
    record.purpose = purpose;
    record.createdAt = now();
    record.expiresAt = expiresAt = record.createdAt + toMicros(ttl);
    tokens_.replaceLoginToken(record); // voids any older token of the user
    return token;
}

MailMessage BuzzService::composeTokenMail(const Member& member, const std::string& token,
                                          const MailTemplate& kind, Micros expiresAt) const {
    std::string encodedEmail;
    std::string encodedToken;
    Poco::URI::encode(member.user.username, "&=#+%", encodedEmail);
    Poco::URI::encode(token, "&=#+%", encodedToken);
    // The token travels in the fragment: browsers never send it to a server or in a Referer.
    const std::string link = context_.publicUrl() + settings_.mount +
                             "/set-password#email=" + encodedEmail + "&token=" + encodedToken;
    const std::map<std::string, std::string> values{{"link", link},
                                                    {"token", token},
                                                    {"email", member.user.username},
                                                    {"first_name", member.attributes.firstName},
                                                    {"last_name", member.attributes.lastName},
                                                    {"expires", isoTime(expiresAt)}};
    std::map<std::string, std::string> escaped;
    for (const auto& [name, value] : values)
        escaped[name] = htmlEscape(value);
    MailMessage message;
    message.from = settings_.mailFrom;
    message.to = member.user.username;
    message.subject = fill(kind.subject, values);
    message.text = fill(kind.text, values);
    message.html = kind.html.empty() ? "" : fill(kind.html, escaped);
    return message;
}

void BuzzService::deliver(const MailMessage& message, Id userId) {
    try {
        mailer_->send(message);
    } catch (const std::exception& e) {
        // The user stays; an administrator can resend the mail.
        context_.logger().error("mail to user " + std::to_string(userId) + " failed: " + e.what());
    }
}

void BuzzService::queueMail(const MailMessage& message, Id userId) {
    if (!jobs_->post([this, message, userId] { deliver(message, userId); })) {
        context_.logger().error("mail queue full: mail to user " + std::to_string(userId) +
                                " dropped (resend it)");
    }
}

BuzzService::FailureKeys BuzzService::failureKeys(const std::string& email,
                                                  const Request& request) const {
    // A tight limit per address and client, so that someone guessing at an address soon stops
    // and its owner elsewhere goes on; a looser one per address over all clients, so that many
    // clients together cannot guess on. Addresses are hashed: the store keeps no list of
    // addresses people tried.
    const std::string& peer = request.remoteAddress;
    const auto colon = peer.rfind(':');
    const std::string ip = colon == std::string::npos ? peer : peer.substr(0, colon);
    const std::string prefix = "fails/" + std::to_string(instance_.id) + "/";
    const std::string address = asciiLower(email);
    return {prefix + "c-" + hashHex(address + "|" + ip), prefix + "a-" + hashHex(address)};
}

void BuzzService::checkTokenLockout(const FailureKeys& keys) {
    const Micros window = toMicros(settings_.tokenLockout);
    const Micros t = now();
    const std::pair<const std::string*, std::int64_t> limits[] = {
        {&keys.client, settings_.tokenAttempts}, {&keys.account, settings_.tokenAccountAttempts}};
    for (const auto& [key, limit] : limits) {
        const auto stored = values_.get(*key);
        if (!stored) continue;
        Poco::JSON::Parser parser;
        const auto object = parser.parse(*stored).extract<Poco::JSON::Object::Ptr>();
        const auto since = object->optValue<Poco::Int64>("since", 0);
        const auto count = object->optValue<Poco::Int64>("count", 0);
        if (count >= limit && t - since < window) {
            const auto wait = (since + window - t) / 1'000'000 + 1;
            throw HttpError(429, "Too many wrong tokens for this address; try again later.", {},
                            {{"Retry-After", std::to_string(wait)}});
        }
    }
}

void BuzzService::recordTokenFailure(const std::string& key) {
    const Micros t = now();
    updateValue(key, [&](const std::optional<std::string>& current) -> std::optional<std::string> {
        Micros since = t;
        std::int64_t count = 1;
        if (current) {
            Poco::JSON::Parser parser;
            const auto object = parser.parse(*current).extract<Poco::JSON::Object::Ptr>();
            const auto oldSince = object->optValue<Poco::Int64>("since", 0);
            if (t - oldSince < toMicros(settings_.tokenLockout)) {
                since = oldSince;
                count = object->optValue<Poco::Int64>("count", 0) + 1;
            }
        }
        JsonWriter out;
        out.beginObject().field("count", count).field("since", since).endObject();
        return out.take();
    });
}

// --- authenticate -----------------------------------------------------------------------------

Response BuzzService::authenticate(const Request& request) {
    Body body = Body::parse(request);
    body.rejectUnknown({"email", "user_id", "password", "keep_logged_in"});
    const auto email = body.text("email");
    const auto userId = body.integer("user_id");
    const auto password = body.text("password", true);
    const bool remember = body.flag("keep_logged_in").value_or(false);
    if (!email && !userId) body.fail("email", "is required (or user_id)");
    body.throwIfInvalid();

    const auto member = email ? findByEmail(*email) : findById(*userId);
    // The same work and the same answer for an unknown user, a wrong password and an inactive
    // user, so none of them can be told apart.
    const PasswordCheck check =
        hasher_->verify(*password, member ? member->user.passwordHash : std::string());
    if (!member || !check.ok || !member->attributes.active) {
        throw HttpError(401, "Invalid email or password.");
    }
    if (check.needsRehash) {
        try {
            users_.updateUserPasswordHash(member->user.id, member->user.passwordHash,
                                          hasher_->hash(*password));
        } catch (const std::exception& e) {
            context_.logger().warn(std::string("password rehash skipped: ") + e.what());
        }
    }
    // A fresh session id at every login; the session the client came with, if any, ends.
    if (const auto old = presentedSession(request)) sessions_.deleteSession(hashHex(*old));
    Response response = envelope(200, "Cookie set successfully");
    response.headers.push_back(startSession(member->user.id, remember));
    return response;
}

Response BuzzService::changeOwnPassword(const Request& request) {
    const Member caller = requireSession(request);
    Body body = Body::parse(request);
    body.rejectUnknown({"email", "password", "new_password"});
    const auto email = body.text("email", true);
    const auto password = body.text("password", true);
    const auto newPassword = body.text("new_password", true);
    if (newPassword) {
        for (auto& problem : hasher_->checkPolicy(*newPassword))
            body.fail("new_password", problem);
    }
    body.throwIfInvalid();
    if (asciiLower(*email) != caller.user.username) {
        throw HttpError(403, "You can only change your own password.");
    }
    if (!hasher_->verify(*password, caller.user.passwordHash).ok) {
        throw HttpError(401, "The current password is wrong.");
    }
    setPasswordHash(caller.user.id, hasher_->hash(*newPassword));
    // Every session ended with the old password; the caller continues in a fresh one.
    Response response = idEnvelope(200, "Password updated", caller.user.id);
    response.headers.push_back(startSession(caller.user.id, false));
    return response;
}

Response BuzzService::logout(const Request& request) {
    std::string hash;
    requireSession(request, &hash);
    sessions_.deleteSession(hash);
    Response response = envelope(200, "You have been successfully logged out");
    response.headers.push_back(clearCookie());
    return response;
}

// --- users ------------------------------------------------------------------------------------

Response BuzzService::createUser(const Request& request) {
    const Member caller = requireSession(request);
    requirePermission(caller, "user", 2);
    Body body = Body::parse(request);
    body.rejectUnknown({"email", "role_id", "first_name", "last_name", "notes", "password",
                        "active", "super_user"});
    auto email = body.text("email", true);
    const auto roleId = body.integer("role_id", true);
    Attributes attributes;
    attributes.firstName = body.text("first_name").value_or("");
    attributes.lastName = body.text("last_name").value_or("");
    attributes.notes = body.text("notes").value_or("");
    const auto password = body.text("password");
    const auto active = body.flag("active");
    const auto superUser = body.flag("super_user");
    if (email) {
        email = asciiLower(*email);
        if (!isEmail(*email)) body.fail("email", "is not a valid address");
    }
    if ((password || active || superUser) && !caller.attributes.superUser) {
        throw HttpError(403, "Only a super user may set password, active or super_user.");
    }
    if (password) {
        for (auto& problem : hasher_->checkPolicy(*password))
            body.fail("password", problem);
    }
    if (roleId) requireAssignableRole(caller, *roleId, body);
    checkAttributes(body, attributes);
    body.throwIfInvalid();

    if (users_.findUserByUsername(instance_.id, *email)) {
        throw HttpError(400, "A user with this email exists already.");
    }
    attributes.roleId = roleId;
    attributes.active = active.value_or(false);
    attributes.superUser = superUser.value_or(false);
    UserRecord user;
    user.instanceId = instance_.id;
    user.username = *email;
    // Without a password the user has none that works: it sets one with the mailed token.
    user.passwordHash = password ? hasher_->hash(*password) : std::string();
    user.key = context_.newUserKey();
    user.createdAt = user.updatedAt = user.profile.createdAt = user.profile.updatedAt = now();
    try {
        user = users_.createUser(user);
    } catch (const Conflict&) {
        throw HttpError(400, "A user with this email exists already.");
    }
    createAttributes(user.id, attributes);
    const Member member{user, attributes};
    if (!password) {
        Micros expires = 0;
        const std::string token = issueToken(member, "invite", settings_.inviteTtl, expires);
        queueMail(composeTokenMail(member, token, settings_.invite, expires), user.id);
    }
    return idEnvelope(201, "user created with ID = " + std::to_string(user.id), user.id);
}

Response BuzzService::listUsers(const Request& request) {
    const Member caller = requireSession(request);
    bool mayRead = true;
    try {
        requirePermission(caller, "user", 1);
    } catch (const HttpError&) {
        mayRead = false; // a user without the permission still sees itself
    }
    const auto filter = [&request](const char* name) { return request.queryParam(name); };
    std::vector<Member> found;
    const std::string prefix = "user/" + std::to_string(instance_.id) + "/";
    for (const auto& [key, value] : values_.list(prefix)) {
        const auto id = parseInt(key.substr(prefix.size()));
        if (!id || (!mayRead && *id != caller.user.id)) continue;
        auto member = findById(*id);
        if (!member) continue;
        const Attributes& a = member->attributes;
        if (const auto f = filter("user_id"); f && *f != std::to_string(*id)) continue;
        if (const auto f = filter("email"); f && asciiLower(*f) != member->user.username) continue;
        if (const auto f = filter("first_name"); f && *f != a.firstName) continue;
        if (const auto f = filter("last_name"); f && *f != a.lastName) continue;
        if (const auto f = filter("role_id"); f && (!a.roleId || *f != std::to_string(*a.roleId))) {
            continue;
        }
        if (const auto f = filter("active"); f && (*f == "true" || *f == "1") != a.active) continue;
        found.push_back(std::move(*member));
    }
    return envelope(200, std::to_string(found.size()) + " users", [&found](JsonWriter& out) {
        out.beginArray();
        for (const auto& member : found)
            writeMember(out, member);
        out.endArray();
    });
}

Response BuzzService::updateUser(const Request& request) {
    const Member caller = requireSession(request);
    Body body = Body::parse(request);
    body.rejectUnknown({"user_id", "email", "role_id", "first_name", "last_name", "notes",
                        "password", "active", "super_user"});
    const auto userId = body.integer("user_id", true);
    body.throwIfInvalid();
    const bool self = *userId == caller.user.id;
    const bool super = caller.attributes.superUser;
    if (!self) requirePermission(caller, "user", 4);
    const auto member = findById(*userId);
    if (!member) throw HttpError(404, "No such user.");
    // The update permission must not be a way to take over a super user, or anyone who may
    // do more than the caller.
    if (!self) requireOutranks(caller, *member);
    auto email = body.text("email");
    const auto roleId = body.integer("role_id");
    const auto password = body.text("password");
    const auto active = body.flag("active");
    const auto superUser = body.flag("super_user");
    const auto firstName = body.text("first_name");
    const auto lastName = body.text("last_name");
    const auto notes = body.text("notes");
    if ((password || active || superUser) && !super) {
        throw HttpError(403, "Only a super user may set password, active or super_user.");
    }
    if (email) {
        email = asciiLower(*email);
        if (!isEmail(*email)) body.fail("email", "is not a valid address");
    }
    const bool emailChanges = email && *email != member->user.username;
    // The address is where the login tokens go: moving someone else's is taking the account.
    if (emailChanges && !self && !super) {
        throw HttpError(403, "Only a super user may change another user's email.");
    }
    // Changing one's own role would be a way around the role's own permissions.
    if (roleId && self && !super) throw HttpError(403, "You cannot change your own role.");
    if (password) {
        for (auto& problem : hasher_->checkPolicy(*password))
            body.fail("password", problem);
    }
    if (roleId) requireAssignableRole(caller, *roleId, body);
    const auto apply = [&](Attributes& a) {
        if (firstName) a.firstName = *firstName;
        if (lastName) a.lastName = *lastName;
        if (notes) a.notes = *notes;
        if (roleId) a.roleId = roleId;
        if (active) a.active = *active;
        if (superUser) a.superUser = *superUser;
    };
    Attributes preview = member->attributes;
    apply(preview);
    checkAttributes(body, preview);
    body.throwIfInvalid();

    std::unique_lock superUsers(superUsers_, std::defer_lock);
    const bool stopsBeingSuper = member->attributes.superUser && member->attributes.active &&
                                 !(preview.superUser && preview.active);
    if (stopsBeingSuper) {
        superUsers.lock();
        if (countActiveSuperUsers() <= 1) {
            throw HttpError(409, "This is the last active super user; make another one first.");
        }
    }
    if (emailChanges) {
        if (users_.findUserByUsername(instance_.id, *email)) {
            throw HttpError(400, "A user with this email exists already.");
        }
        for (int attempt = 0;; ++attempt) {
            auto user = users_.findUserById(instance_.id, *userId);
            if (!user) throw HttpError(404, "No such user.");
            const Micros expected = user->updatedAt;
            user->username = *email;
            user->updatedAt = std::max(now(), expected + 1);
            try {
                if (users_.updateUser(*user, expected)) break;
            } catch (const Conflict&) {
                throw HttpError(400, "A user with this email exists already.");
            }
            if (attempt + 1 == kWriteAttempts) throw HttpError(409, "The user changed; retry.");
        }
        // Tokens mailed to the old address and sessions opened under it end with it.
        endAccess(*userId);
    }
    if (password) setPasswordHash(*userId, hasher_->hash(*password));
    const Attributes saved = updateAttributes(*userId, apply);
    // Deactivating ends what the user holds: sessions, and any mailed token (an invitation too).
    if (active && !*active) endAccess(*userId);
    Response response = idEnvelope(200, "user updated", *userId);
    // A user that changed its own address continues in a fresh session.
    if (emailChanges && self && saved.active) {
        response.headers.push_back(startSession(*userId, false));
    }
    return response;
}

Response BuzzService::deleteUser(const Request& request) {
    const Member caller = requireSession(request);
    requirePermission(caller, "user", 8);
    Body body = Body::parse(request);
    body.rejectUnknown({"user_id"});
    const auto userId = body.integer("user_id", true);
    body.throwIfInvalid();
    const auto member = findById(*userId);
    if (!member) throw HttpError(404, "No such user.");
    if (*userId != caller.user.id) requireOutranks(caller, *member);
    std::unique_lock superUsers(superUsers_, std::defer_lock);
    if (member->attributes.superUser) {
        superUsers.lock();
        if (member->attributes.active && countActiveSuperUsers() <= 1) {
            throw HttpError(409, "This is the last active super user; make another one first.");
        }
    }
    users_.deleteUser(instance_.id, *userId);
    values_.remove(attributesKey(*userId));
    return idEnvelope(200, "user deleted", *userId);
}

Response BuzzService::resendUserEmail(const Request& request) {
    const Member caller = requireSession(request);
    requirePermission(caller, "user", 2);
    Body body = Body::parse(request);
    body.rejectUnknown({"user_id", "email"});
    const auto userId = body.integer("user_id");
    const auto email = body.text("email");
    if (!userId && !email) body.fail("user_id", "is required (or email)");
    body.throwIfInvalid();
    const auto member = userId ? findById(*userId) : findByEmail(*email);
    if (!member) throw HttpError(404, "No such user.");
    requireOutranks(caller, *member);
    if (member->attributes.active) {
        throw HttpError(400, "This user is active already; a lost password goes through "
                             "change_password.");
    }
    Micros expires = 0;
    const std::string token = issueToken(*member, "invite", settings_.inviteTtl, expires);
    queueMail(composeTokenMail(*member, token, settings_.invite, expires), member->user.id);
    return envelope(200, "Email sent",
                    [](JsonWriter& out) { out.value("Email sent successfully"); });
}

Response BuzzService::changePassword(const Request& request) {
    Body body = Body::parse(request);
    body.rejectUnknown({"email", "new_password", "login_token"});
    const auto email = body.text("email", true);
    const auto newPassword = body.text("new_password");
    const auto token = body.text("login_token");
    body.throwIfInvalid();
    const std::string address = asciiLower(*email);
    const Micros t = now();
    maybeCleanup(t);

    if (!token && !newPassword) {
        // Lost password: the same answer, after the same work, whether or not the address is
        // known; the lookup, the token and the mail happen off the request path. One mail per
        // address per reset_cooldown, and never more than half the mail queue.
        const bool due = updateValue(
            "cooldown/" + std::to_string(instance_.id) + "/" + hashHex(address),
            [&](const std::optional<std::string>& current) -> std::optional<std::string> {
                if (current) {
                    Poco::JSON::Parser parser;
                    const auto object = parser.parse(*current).extract<Poco::JSON::Object::Ptr>();
                    if (t - object->optValue<Poco::Int64>("at", 0) <
                        toMicros(settings_.resetCooldown)) {
                        return std::nullopt;
                    }
                }
                JsonWriter out;
                out.beginObject().field("at", t).endObject();
                return out.take();
            });
        if (due) {
            jobs_->post(
                [this, address] {
                    const auto member = findByEmail(address);
                    if (!member || !member->attributes.active) return;
                    Micros expires = 0;
                    const std::string fresh =
                        issueToken(*member, "reset", settings_.resetTtl, expires);
                    deliver(composeTokenMail(*member, fresh, settings_.reset, expires),
                            member->user.id);
                },
                true);
        }
        return envelope(200, "Email sent",
                        [](JsonWriter& out) { out.value("Email sent successfully"); });
    }
    if (!token) body.fail("login_token", "is required");
    if (!newPassword) body.fail("new_password", "is required");
    if (newPassword) {
        for (auto& problem : hasher_->checkPolicy(*newPassword))
            body.fail("new_password", problem);
    }
    body.throwIfInvalid();
    const auto refused = [] { return HttpError(400, "Invalid or expired login token."); };
    // The counter is checked and kept for unknown addresses too: the answers do not differ.
    const FailureKeys fails = failureKeys(address, request);
    checkTokenLockout(fails);
    const auto member = findByEmail(address);
    std::optional<std::string> purpose;
    if (member && token->size() <= 128) {
        purpose = tokens_.consumeLoginToken(member->user.id, hashHex(*token), t);
    }
    if (!purpose) {
        recordTokenFailure(fails.client);
        recordTokenFailure(fails.account);
        throw refused();
    }
    // Only an invitation makes a user active; a reset is for a user that is active now (a
    // deactivation voids tokens, so this is the second line).
    const bool invite = *purpose == "invite";
    if (!invite && !member->attributes.active) throw refused();
    values_.remove(fails.client); // the account counter runs out by itself
    setPasswordHash(member->user.id, hasher_->hash(*newPassword));
    if (invite) updateAttributes(member->user.id, [](Attributes& a) { a.active = true; });
    return envelope(200, "Password updated",
                    [](JsonWriter& out) { out.value("Password updated successfully"); });
}

// --- roles ------------------------------------------------------------------------------------

Role BuzzService::readRole(Body& body, Role role, bool creating) {
    if (auto name = body.text("role_name", creating)) {
        role.name = *name;
        if (role.name.empty()) body.fail("role_name", "may not be empty");
        checkName(body, "role_name", role.name);
    }
    if (body.has("parent_role_id")) {
        role.parent = body.integer("parent_role_id");
        if (role.parent && (*role.parent == role.id || !findRole(*role.parent))) {
            body.fail("parent_role_id", "must name another existing role");
        }
    }
    if (auto active = body.flag("active")) role.active = *active;
    if (const auto permissions = body.object("permissions")) {
        role.permissions.clear();
        for (const auto& [name, value] : *permissions) {
            std::optional<Poco::Int64> bits;
            try {
                if (value.isInteger() && !value.isBoolean()) bits = value.convert<Poco::Int64>();
            } catch (const Poco::Exception&) {
                // Out of range: the message below.
            }
            if (!bits || *bits < 0 || *bits > 15 || name.empty() || name.size() > 64) {
                body.fail("permissions", "must map object names to 0..15 (read 1, create 2, "
                                         "update 4, delete 8)");
                continue;
            }
            role.permissions[name] = *bits;
        }
    }
    return role;
}

Response BuzzService::listRoles(const Request& request) {
    requireSession(request);
    const auto all = roles();
    return envelope(200, std::to_string(all.size()) + " roles", [&all](JsonWriter& out) {
        out.beginArray();
        for (const auto& role : all)
            writeRole(out, role);
        out.endArray();
    });
}

Response BuzzService::createRole(const Request& request) {
    const Member caller = requireSession(request);
    if (!caller.attributes.superUser) throw HttpError(403, "Only a super user manages roles.");
    Body body = Body::parse(request);
    body.rejectUnknown({"role_name", "parent_role_id", "permissions", "active"});
    Role role = readRole(body, Role{}, true);
    body.throwIfInvalid();
    role.id = nextRoleId();
    if (!values_.putIfAbsent(roleKey(role.id), serializeRole(role))) {
        throw HttpError(409, "Role ids collided; retry.");
    }
    return envelope(201, "role created with ID = " + std::to_string(role.id),
                    [&role](JsonWriter& out) { writeRole(out, role); });
}

Response BuzzService::updateRole(const Request& request) {
    const Member caller = requireSession(request);
    if (!caller.attributes.superUser) throw HttpError(403, "Only a super user manages roles.");
    Body body = Body::parse(request);
    body.rejectUnknown({"role_id", "role_name", "parent_role_id", "permissions", "active"});
    const auto id = body.integer("role_id", true);
    body.throwIfInvalid();
    if (isConfigRole(*id)) {
        throw HttpError(403, "This role is defined in the configuration; change it there.");
    }
    Role updated;
    updateValue(roleKey(*id),
                [&](const std::optional<std::string>& current) -> std::optional<std::string> {
                    if (!current) throw HttpError(404, "No such role.");
                    Body attempt = body; // problems are recorded afresh on a retry
                    updated = readRole(attempt, parseRole(*id, *current), false);
                    attempt.throwIfInvalid();
                    return serializeRole(updated);
                });
    return envelope(200, "role updated", [&updated](JsonWriter& out) { writeRole(out, updated); });
}

Response BuzzService::deleteRole(const Request& request) {
    const Member caller = requireSession(request);
    if (!caller.attributes.superUser) throw HttpError(403, "Only a super user manages roles.");
    Body body = Body::parse(request);
    body.rejectUnknown({"role_id"});
    const auto id = body.integer("role_id", true);
    body.throwIfInvalid();
    if (isConfigRole(*id)) {
        throw HttpError(403, "This role is defined in the configuration; remove it there.");
    }
    if (!findRole(*id)) throw HttpError(404, "No such role.");
    // A deleted role would silently take every permission from its users, or leave a child
    // pointing nowhere: both have to be moved first.
    const std::string users = "user/" + std::to_string(instance_.id) + "/";
    for (const auto& [key, value] : values_.list(users)) {
        if (parseAttributes(value).roleId == id) {
            throw HttpError(409, "Users still have this role; give them another one first.");
        }
    }
    for (const auto& role : roles()) {
        if (role.parent == id) {
            throw HttpError(409, "Role " + std::to_string(role.id) + " names this role as parent.");
        }
    }
    values_.remove(roleKey(*id));
    return idEnvelope(200, "role deleted", *id);
}

} // namespace latchkey::plugins::buzz
