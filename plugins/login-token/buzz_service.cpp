// The Buzz `/rest` login-token flow: construction, events, mount, and the handlers of logins
// and passwords (users and roles are in buzz_users.cpp).
#include "buzz_service.hpp"

#include "cross_site.hpp"

#include "envelope.hpp"
#include "set_password_page.hpp"
#include "text.hpp"

#include <latchkey/mailer.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/support/text.hpp>
#include <latchkey/support/time.hpp>

#include <sodium.h>

#include <stdexcept>

namespace latchkey::plugins::buzz {

namespace {

/// How often stale sessions, counters and cooldowns are swept.
constexpr Micros kCleanupEvery = 600'000'000;

/// A storage facet the plugin declared (plugin.cpp); the host checked the driver has it.
template <class Facet>
Facet& need(PluginContext& context) {
    auto* facet = context.storage<Facet>();
    if (!facet) throw std::runtime_error(std::string("no storage facet ") + Facet::kInterfaceId);
    return *facet;
}

/// Why the last active super user stays one.
constexpr const char* kLastSuperUser =
    "This is the last active super user; make another one first.";

/// How many of this flow's own password and address changes are under way on this thread (the
/// identity service announces on the caller's thread, before setPassword or rename returns).
thread_local int tOwnChanges = 0;

/// Marks the changes made while it lives as the flow's own.
class OwnChange {
public:
    OwnChange() noexcept { ++tOwnChanges; }
    ~OwnChange() { --tOwnChanges; }
    OwnChange(const OwnChange&) = delete;
    OwnChange& operator=(const OwnChange&) = delete;
};

HttpError unauthenticated() {
    return HttpError(401, "You are not logged in.");
}

/// A use of a mailed token as an authentication event, in the host's format (docs/security.md,
/// "Logging"): numbers, codes and the client address the host formatted, never the token or
/// the address. `user` is nullopt for an address no user has.
void logTokenEvent(PluginContext& context, Id instance, std::optional<Id> user,
                   std::string_view client, std::string_view outcome, std::string_view reason) {
    Logger& log = context.logger();
    std::string line = "auth event=login_token instance=" + std::to_string(instance) +
                       " user=" + (user ? std::to_string(*user) : std::string("unknown")) +
                       " client=" + std::string(client.empty() ? "-" : client) +
                       " outcome=" + std::string(outcome) + " reason=" + std::string(reason);
    if (outcome == "success") {
        log.info(line);
        return; // the password it sets is published as user.password_changed
    }
    log.warn(line);
    // A wrong or throttled token, as an event like a refused password (SDK 2.5).
    Event event;
    event.type = outcome == "refused" ? "user.throttled" : "user.login_failed";
    event.instanceId = instance;
    event.userId = user;
    event.data = {{"method", "login_token"}, {"reason", std::string(reason)}};
    if (!client.empty()) event.data.emplace_back("client", std::string(client));
    context.events().publish(std::move(event));
}

} // namespace

BuzzService::BuzzService(PluginContext& context, Settings settings)
    : context_(context), settings_(std::move(settings)), sessionStore_(need<Sessions>(context)),
      tokenStore_(need<LoginTokens>(context)), values_(context.values()) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    jobs_ = std::make_unique<BackgroundJobs>(settings_.mailQueue, [this](const std::string& what) {
        context_.logger().error("background job failed: " + what);
    });
    context_.metrics().gauge(
        "latchkey_mail_queue_depth",
        "Jobs of the login-token flow waiting to run: mails, lost-password lookups, sweeps.",
        [jobs = jobs_.get()] { return static_cast<double>(jobs->waiting()); });
}

BuzzService::~BuzzService() {
    // Mail already queued still goes out (those users wait for it), for at most mail.drain.
    const std::size_t dropped = jobs_->shutdown(settings_.mailDrain);
    if (dropped > 0) {
        context_.logger().warn(std::to_string(dropped) +
                               " queued mails dropped at shutdown (mail.drain passed)");
    }
}

Micros BuzzService::now() const {
    return nowMicros(context_.clock());
}

void BuzzService::endAccess(Id userId) {
    parts_->mail.revoke(userId);
    parts_->sessions.endAll(userId);
}

bool BuzzService::currentPasswordIs(const Member& caller, const std::string& password,
                                    const Request& request) {
    // Checked like a login (throttled): a stolen session cookie does not make guessing free.
    return identities_
        ->attemptLogin({.instanceId = instance_.id,
                        .username = {},
                        .userId = caller.user.id,
                        .password = password,
                        .client = request.remoteAddress})
        .has_value();
}

void BuzzService::noticePasswordChanged(Id userId, const std::string& address) {
    parts_->mail.notify(userId, address, "Your password was changed",
                        "The password of your account " + address + " at " + context_.publicUrl() +
                            " was just changed.\n\nIf you did not change it, ask for a new one "
                            "with the lost-password form and tell your administrator.\n");
}

void BuzzService::noticeAddressChanged(Id userId, const std::string& oldAddress) {
    parts_->mail.notify(userId, oldAddress, "The address of your account was changed",
                        "Your account at " + context_.publicUrl() + " no longer uses " +
                            oldAddress +
                            ": its address was just changed.\n\nIf you did not change it, "
                            "tell your administrator.\n");
}

void BuzzService::setPasswordHere(Id userId, const std::string& password) {
    const OwnChange own;
    identities_->setPassword(instance_.id, userId, password);
}

void BuzzService::renameHere(Id userId, const std::string& address) {
    const OwnChange own;
    identities_->rename(instance_.id, userId, address);
}

void BuzzService::onUserEvent(const UserEvent& event) {
    if (!parts_ || event.instanceId != instance_.id) return; // this flow serves one instance
    switch (event.kind) {
    case UserEventKind::Deactivated: // a deactivated user holds nothing...
        // ...but moving 1.x data only records who was inactive: an invited user keeps its
        // mailed token (it is what activates it).
        if (!migrating_) endAccess(event.userId);
        break;
    case UserEventKind::PasswordChanged: // what was opened with the old password ends with it
        endAccess(event.userId);
        // Changed elsewhere (a v1.1 user key, another plugin): the user hears of it as it does
        // of a change here, in case it was not the owner.
        if (tOwnChanges == 0 && !migrating_) {
            if (const auto member = parts_->members.find(event.userId))
                noticePasswordChanged(event.userId, member->user.username);
        }
        break;
    case UserEventKind::UsernameChanged: // tokens went to the old address
        endAccess(event.userId);
        // Renamed elsewhere: the address the flow knew hears of it, as after a move here (a
        // stolen v1.1 user key could otherwise move the account away unseen).
        if (tOwnChanges == 0 && !migrating_) {
            if (const auto member = parts_->members.find(event.userId)) {
                const std::string& known = member->attributes.address;
                if (!known.empty() && known != member->user.username)
                    noticeAddressChanged(event.userId, known);
                const std::string now = member->user.username;
                parts_->members.update(event.userId, [&now](Attributes& a) { a.address = now; });
            }
        }
        break;
    case UserEventKind::UserDeleted:
        // The store deleted the user's sessions and tokens; the attributes are this flow's.
        parts_->members.remove(event.userId);
        break;
    case UserEventKind::InstanceDeleted:
        parts_->members.removeAll();
        parts_->roles.removeAll();
        parts_->lockout.removeAll();
        break;
    case UserEventKind::Activated: break;
    }
}

std::optional<std::string> BuzzService::refuseChange(const UserEvent& proposed) {
    // Held until changeFinished when the change may go on: on this host, no other change of a
    // super user comes between this count and the change (recursive: a /rest handler that
    // holds it already asks through the identity service on its own thread).
    superUsers_.lock();
    std::optional<std::string> reason;
    try {
        if (parts_ && !migrating_ && proposed.instanceId == instance_.id) {
            const auto member = parts_->members.find(proposed.userId);
            if (member && isLastActiveSuperUser(*member)) reason = kLastSuperUser;
        }
    } catch (...) {
        superUsers_.unlock();
        throw;
    }
    if (reason) superUsers_.unlock();
    return reason;
}

void BuzzService::changeFinished(const UserEvent&) noexcept {
    superUsers_.unlock();
}

bool BuzzService::isLastActiveSuperUser(const Member& member) {
    return member.attributes.superUser && member.active &&
           parts_->members.countActiveSuperUsers() <= 1;
}

void BuzzService::requireAnotherSuperUser(const Member& member) {
    if (isLastActiveSuperUser(member)) throw HttpError(409, kLastSuperUser);
}

// --- start ------------------------------------------------------------------------------------

void BuzzService::mount(Router& router) {
    if (!context_.passwordHasher()) {
        throw std::runtime_error("the login-token flow needs a password hasher");
    }
    identities_ = &context_.identities();
    if (!identities_->canDeactivate()) {
        throw std::runtime_error("the login-token flow deactivates users, and the storage driver "
                                 "cannot record that (it lacks latchkey.storage.user-states)");
    }
    instance_ = identities_->ensureInstance(settings_.instance);
    parts_ = std::make_unique<Parts>(Parts{
        Members(values_, *identities_, instance_.id), Roles(values_, instance_.id, settings_.roles),
        CookieSessions(sessionStore_, settings_, instance_.id,
                       context_.publicUrl().rfind("https://", 0) == 0, context_.clock(),
                       context_.random()),
        TokenMail(tokenStore_, *context_.mailer(), context_.logger(), settings_,
                  context_.publicUrl(), context_.clock(), context_.random(), *jobs_),
        Lockout(values_, settings_, instance_.id, context_.clock(), context_.logger())});
    parts_->mail.countInto(context_.metrics());
    migrating_ = true;
    const std::size_t moved = parts_->members.migrateLegacy();
    migrating_ = false;
    if (moved > 0) {
        context_.logger().info("moved " + std::to_string(moved) + " members to the 2.x layout");
    }
    if (const std::size_t filled = parts_->members.recordAddresses(); filled > 0) {
        context_.logger().info("recorded the address of " + std::to_string(filled) +
                               " members (for notices of renames made elsewhere)");
    }
    parts_->roles.seed();
    bootstrapSuperUser();

    origin_ = originOf(context_.publicUrl());
    // Every route that changes something refuses a browser's request from another site (the
    // session cookie is SameSite=Lax, which a sibling subdomain is not kept out by).
    const auto bind = [this](Response (BuzzService::*handler)(const Request&)) {
        return [this, handler](const Request& request) {
            if (request.method != "GET" && request.method != "HEAD") {
                refuseCrossSite(request, origin_);
            }
            return (this->*handler)(request);
        };
    };
    // Routes that hash or verify a password run in the hashing lane, so a login flood is shed
    // there and never takes the workers cookie lookups need.
    const LaneSelector hashing = inLane(Lane::Hashing);
    // The same routes at every mount, over the same users and sessions; a session's cookie is
    // for the mount it was opened through.
    for (const std::string& m : settings_.mounts) {
        router.setErrorRenderer(m, renderError);
        router.addInLane("POST", m + "/authenticate", hashing, bind(&BuzzService::authenticate));
        router.addInLane("PUT", m + "/authenticate", hashing,
                         bind(&BuzzService::changeOwnPassword));
        router.add("DELETE", m + "/authenticate", bind(&BuzzService::logout));
        router.addInLane("POST", m + "/user", hashingIfPasswordMayBeSet,
                         bind(&BuzzService::createUser));
        router.add("GET", m + "/user", bind(&BuzzService::listUsers));
        // "Who is this" with a cookie: the session, the member and its role are cached reads, so
        // the host answers it on its network thread when it can (a list of others, an expired
        // session or a touch of its idle clock goes to a worker).
        router.allowInline("GET", m + "/user");
        router.addInLane("PUT", m + "/user", hashingIfPasswordMayBeSet,
                         bind(&BuzzService::updateUser));
        router.add("DELETE", m + "/user", bind(&BuzzService::deleteUser));
        router.add("POST", m + "/resend_user_email", bind(&BuzzService::resendUserEmail));
        for (const char* method : {"PUT", "POST"}) {
            router.addInLane(method, m + "/change_password", hashingIfPasswordMayBeSet,
                             bind(&BuzzService::changePassword));
        }
        router.add("GET", m + "/role", bind(&BuzzService::listRoles));
        router.add("POST", m + "/role", bind(&BuzzService::createRole));
        router.add("PUT", m + "/role", bind(&BuzzService::updateRole));
        router.add("DELETE", m + "/role", bind(&BuzzService::deleteRole));
        router.add("GET", m + "/set-password", [this, m](const Request&) {
            return setPasswordPage(m + "/change_password", randomToken(context_.random(), 18));
        });
    }
    std::string mounts;
    for (const std::string& m : settings_.mounts)
        mounts += (mounts.empty() ? "" : ", ") + m;
    context_.logger().info("login-token flow at " + mounts + " for instance " + instance_.name);
}

const std::string& BuzzService::mountOf(const Request& request) const {
    for (const std::string& m : settings_.mounts) {
        // No mount is under another (settings), so at most one is the path's.
        if (request.path.size() > m.size() && request.path.rfind(m, 0) == 0 &&
            request.path[m.size()] == '/')
            return m;
    }
    return settings_.mount;
}

void BuzzService::bootstrapSuperUser() {
    if (settings_.superUserEmail.empty()) return;
    const std::string email = asciiLower(settings_.superUserEmail);
    if (parts_->members.findByEmail(email)) return; // an existing user is never changed
    const auto problems = context_.passwordHasher()->checkPolicy(settings_.superUserPassword);
    if (!problems.empty()) throw std::runtime_error("super_user.password: " + problems.front());
    NewUser wanted;
    wanted.instanceId = instance_.id;
    wanted.username = email;
    wanted.password = settings_.superUserPassword;
    UserRecord user;
    try {
        user = identities_->createUser(wanted);
    } catch (const Conflict&) {
        return; // another host made it at the same moment
    }
    Attributes attributes;
    attributes.superUser = true;
    attributes.address = user.username;
    parts_->members.create(user.id, attributes);
    context_.logger().info("created the first super user " + email);
}

void BuzzService::maybeCleanup(Micros t) {
    Micros last = lastCleanup_.load();
    if (t - last < kCleanupEvery || !lastCleanup_.compare_exchange_strong(last, t)) return;
    jobs_->post(
        [this, t] {
            parts_->sessions.sweep(t);
            parts_->lockout.sweep(t);
        },
        true);
}

// --- sessions ---------------------------------------------------------------------------------

Member BuzzService::requireSession(const Request& request, std::string* sessionHash) {
    const auto session = parts_->sessions.check(request);
    if (!session) throw unauthenticated();
    auto member = parts_->members.find(session->userId);
    if (!member || !member->active) throw unauthenticated();
    if (sessionHash) *sessionHash = session->idHash;
    return std::move(*member);
}

Response BuzzService::authenticate(const Request& request) {
    Body body = Body::parse(request);
    body.rejectUnknown({"email", "user_id", "password", "keep_logged_in"});
    const auto email = body.text("email");
    const auto userId = body.integer("user_id");
    const auto password = body.text("password", true);
    const bool remember = body.flag("keep_logged_in").value_or(false);
    if (!email && !userId) body.fail("email", "is required (or user_id)");
    body.throwIfInvalid();

    // The identity service does the same work and gives the same answer for an unknown user,
    // a wrong password and an inactive user, so none of them can be told apart.
    // Guessing is throttled (429) by address or id, client and account, on every host.
    const std::string address = email ? asciiLower(*email) : std::string();
    LoginAttempt attempt{.instanceId = instance_.id,
                         .username = address,
                         .userId = std::nullopt,
                         .password = *password,
                         .client = request.remoteAddress};
    if (!email) attempt.userId = *userId;
    const auto user = identities_->attemptLogin(attempt);
    if (!user || !parts_->members.attributes(user->id)) {
        throw HttpError(401, "Invalid email or password.");
    }
    // A fresh session id at every login; the session the client came with, if any, ends.
    parts_->sessions.endPresented(request);
    Response response = envelope(200, "Cookie set successfully");
    response.headers.push_back(parts_->sessions.start(user->id, remember, mountOf(request)));
    maybeCleanup(now());
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
        for (auto& problem : context_.passwordHasher()->checkPolicy(*newPassword))
            body.fail("new_password", problem);
    }
    body.throwIfInvalid();
    if (asciiLower(*email) != caller.user.username) {
        throw HttpError(403, "You can only change your own password.");
    }
    if (!currentPasswordIs(caller, *password, request)) {
        throw HttpError(401, "The current password is wrong.");
    }
    // Every session and token ended with the old password (onUserEvent); the caller continues
    // in a fresh session.
    setPasswordHere(caller.user.id, *newPassword);
    noticePasswordChanged(caller.user.id, caller.user.username);
    Response response = idEnvelope(200, "Password updated", caller.user.id);
    response.headers.push_back(parts_->sessions.start(caller.user.id, false, mountOf(request)));
    return response;
}

Response BuzzService::logout(const Request& request) {
    std::string hash;
    requireSession(request, &hash);
    parts_->sessions.end(hash);
    Response response = envelope(200, "You have been successfully logged out");
    response.headers.push_back(parts_->sessions.clearCookie(mountOf(request)));
    return response;
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
        if (parts_->lockout.resetDue(address, request.remoteAddress)) {
            jobs_->post(
                [this, address] {
                    const auto member = parts_->members.findByEmail(address);
                    if (member && member->active) parts_->mail.sendReset(*member);
                },
                true);
        }
        return envelope(200, "Email sent",
                        [](JsonWriter& out) { out.value("Email sent successfully"); });
    }
    if (!token) body.fail("login_token", "is required");
    if (!newPassword) body.fail("new_password", "is required");
    if (newPassword) {
        for (auto& problem : context_.passwordHasher()->checkPolicy(*newPassword))
            body.fail("new_password", problem);
    }
    body.throwIfInvalid();
    const auto refused = [] { return HttpError(400, "Invalid or expired login token."); };
    // The counters are checked and kept for unknown addresses too: the answers do not differ.
    // Only this client's counter can refuse a token before it is tried.
    const FailureKeys fails = parts_->lockout.keys(address, request.remoteAddress);
    // The client's lockout first, before any lookup: the same work for every address.
    try {
        parts_->lockout.checkClient(fails);
    } catch (const HttpError&) {
        logTokenEvent(context_, instance_.id, std::nullopt, request.remoteAddress, "refused",
                      "throttled");
        throw;
    }
    const auto member = parts_->members.findByEmail(address);
    const auto event = [&](std::string_view outcome, std::string_view reason) {
        logTokenEvent(context_, instance_.id,
                      member ? std::optional<Id>(member->user.id) : std::nullopt,
                      request.remoteAddress, outcome, reason);
    };
    std::optional<std::string> purpose;
    if (member) purpose = parts_->mail.consume(member->user.id, *token, t);
    if (!purpose) {
        parts_->lockout.recordFailure(fails);
        try {
            parts_->lockout.checkAddress(fails);
        } catch (const HttpError&) {
            event("failure", "wrong_token_throttled");
            throw;
        }
        event("failure", member ? "wrong_token" : "unknown_user");
        throw refused();
    }
    // Only an invitation makes a user active; a reset is for a user that is active now (a
    // deactivation voids tokens, so this is the second line).
    const bool invite = *purpose == "invite";
    if (!invite && !member->active) {
        event("failure", "inactive");
        throw refused();
    }
    parts_->lockout.clearClient(fails);
    // Active first: should setting the password fail after that, the user can still ask for a
    // reset; the other way round it would be stuck with its token used up.
    if (invite) identities_->setActive(instance_.id, member->user.id, true);
    setPasswordHere(member->user.id, *newPassword);
    event("success", invite ? "invite" : "reset");
    // An invitation sets the first password; a reset replaces one: say so, in case it was not
    // the owner who asked.
    if (!invite) noticePasswordChanged(member->user.id, member->user.username);
    return envelope(200, "Password updated",
                    [](JsonWriter& out) { out.value("Password updated successfully"); });
}

} // namespace latchkey::plugins::buzz
