// The Buzz `/rest` login-token flow over real HTTP with real mail: a real SMTP server (aiosmtpd)
// receives the invitations; the tests read the token from the message as a person would.
#include "support/host_process.hpp"
#include "support/smtp_sink.hpp"
#include "support/test_database.hpp"

#include <Poco/JSON/Array.h>
#include <catch2/catch.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

using namespace latchkey::test;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kRootEmail = "root@example.com";
constexpr const char* kRootPassword = "root-password-for-tests";

/// Undoes quoted-printable (soft line breaks and =XX escapes) so links can be read.
std::string decodeQuotedPrintable(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '=') {
            out += text[i];
        } else if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
            i += 2;
        } else if (i + 1 < text.size() && text[i + 1] == '\n') {
            i += 1;
        } else if (i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += '='; // headers (boundary=..., =?UTF-8?...) are not quoted-printable
        }
    }
    return out;
}

/// The set-password link in a message, and the token in it.
std::pair<std::string, std::string> linkIn(const std::string& message) {
    const std::string text = decodeQuotedPrintable(message);
    std::smatch match;
    REQUIRE(std::regex_search(
        text, match,
        std::regex(R"((https?://\S+/set-password#email=[^&\s]+&token=([A-Za-z0-9_-]+)))")));
    return {match[1], match[2]};
}

/// A host with the login-token flow at /rest mailing through a real SMTP server.
struct BuzzFixture {
    TempDir dir;
    SmtpSink smtp;
    std::unique_ptr<HostProcess> host;
    std::unique_ptr<HttpClient> http;

    explicit BuzzFixture(const std::string& flowSettings = "",
                         const SmtpSink::Options& smtpOptions = {},
                         const std::string& publicUrl = "")
        : smtp(smtpOptions) {
        std::string config =
            testConfig(dir, "",
                       "  login-token:\n"
                       "    instance: buzz-app\n"
                       "    super_user: {email: " +
                           std::string(kRootEmail) + ", password: " + kRootPassword +
                           "}\n"
                           "    roles:\n"
                           "      - {id: 1, name: manager, permissions: {user: 15}}\n"
                           "      - {id: 2, name: member, permissions: {user: 1}}\n" +
                           flowSettings);
        const auto mailer = config.find("mailer:\n");
        const auto next = config.find("admin:\n");
        config.replace(
            mailer, next - mailer,
            "mailer:\n  driver: smtp\n  host: 127.0.0.1\n  port: " + std::to_string(smtp.port()) +
                "\n  security: none\n  attempts: 2\n  backoff: 50ms\n");
        if (!publicUrl.empty()) {
            config.replace(config.find("server:\n"), 8,
                           "server:\n  public_url: " + publicUrl + "\n");
        }
        host = std::make_unique<HostProcess>(dir.write("latchkey.yaml", config));
        http = std::make_unique<HttpClient>(host->baseUrl());
    }

    /// Logs in and returns the session cookie ("name=value"), or "" on failure.
    std::string login(const std::string& email, const std::string& password) const {
        const auto r =
            http->post("/rest/authenticate",
                       R"({"email": ")" + email + R"(", "password": ")" + password + "\"}");
        if (r.status != 200) return "";
        const std::string cookie = r.header("Set-Cookie");
        return cookie.substr(0, cookie.find(';'));
    }

    HttpResult as(const std::string& cookie, const std::string& method, const std::string& path,
                  const std::string& body = "") const {
        return http->request(method, path, body, {{"Cookie", cookie}});
    }

    /// Invites `email` as the super user and returns the token from the mail it received.
    std::string invite(const std::string& email, std::size_t mailsBefore = 0) const {
        const std::string root = login(kRootEmail, kRootPassword);
        const auto created =
            as(root, "POST", "/rest/user",
               R"({"email": ")" + email + R"(", "role_id": 2, "first_name": "G"})");
        REQUIRE(created.status == 201);
        const auto mails = smtp.waitForMessages(mailsBefore + 1);
        REQUIRE(mails.size() == mailsBefore + 1);
        return linkIn(mails.back()).second;
    }

    /// Creates an active user with a password (as the super user `root`) and logs it in.
    std::string addActiveUser(const std::string& root, const std::string& email, int roleId,
                              const std::string& password) const {
        const auto created =
            as(root, "POST", "/rest/user",
               R"({"email": ")" + email + R"(", "role_id": )" + std::to_string(roleId) +
                   R"(, "password": ")" + password + R"(", "active": true})");
        REQUIRE(created.status == 201);
        std::string cookie = login(email, password);
        REQUIRE_FALSE(cookie.empty());
        return cookie;
    }

    HttpResult setPassword(const std::string& email, const std::string& password,
                           const std::string& token) const {
        return http->request("PUT", "/rest/change_password",
                             R"({"email": ")" + email + R"(", "new_password": ")" + password +
                                 R"(", "login_token": ")" + token + "\"}");
    }
};

} // namespace

TEST_CASE("Invite, set the password with the mailed token, log in, change it, log out", "[buzz]") {
    BuzzFixture f;
    const std::string token = f.invite("Gordon@Example.com");
    const auto mail = f.smtp.messages().front();
    CHECK_THAT(mail, Catch::Contains("To: <gordon@example.com>"));
    CHECK(token.size() >= 32); // 192 random bits, base64url

    // Inactive until the password is set: no login yet.
    CHECK(f.login("gordon@example.com", "anything at all").empty());
    CHECK(
        f.setPassword("gordon@example.com", "short", token).body ==
        R"({"success": false, "errors": ["new_password: Ensure this field has at least 8 characters."]})");
    CHECK(
        f.setPassword("gordon@example.com", "Black Mesa 1998", token).body ==
        R"({"success": true, "message": "Password updated", "payload": "Password updated successfully"})");
    // Single use.
    CHECK(f.setPassword("gordon@example.com", "Other Pass 2000", token).status == 400);

    const auto login = f.http->post(
        "/rest/authenticate", R"({"email": "gordon@example.com", "password": "Black Mesa 1998"})");
    REQUIRE(login.status == 200);
    CHECK(login.body == R"({"success": true, "message": "Cookie set successfully"})");
    const std::string setCookie = login.header("Set-Cookie");
    CHECK_THAT(setCookie, Catch::Contains("; Path=/rest; HttpOnly; SameSite=Lax"));
    CHECK_THAT(setCookie, !Catch::Contains("Secure"));
    const std::string session = setCookie.substr(0, setCookie.find(';'));
    // A fresh session id at every login.
    CHECK(f.login("gordon@example.com", "Black Mesa 1998") != session);

    const auto users = f.as(session, "GET", "/rest/user");
    REQUIRE(users.status == 200);
    const auto list = users.json()->getArray("payload");
    REQUIRE(list->size() == 2);
    const auto gordon = list->getObject(1);
    CHECK(gordon->getValue<std::string>("email") == "gordon@example.com");
    CHECK(gordon->getValue<bool>("active"));
    CHECK_FALSE(gordon->has("password"));
    CHECK_FALSE(gordon->has("login_token"));

    // Changing the password ends every session, the caller continues in a fresh one.
    const auto changed = f.as(session, "PUT", "/rest/authenticate",
                              R"({"email": "gordon@example.com", "password": "Black Mesa 1998",
                                  "new_password": "White Mesa 2000"})");
    REQUIRE(changed.status == 200);
    CHECK(changed.json()->getObject("payload")->getValue<int>("id") ==
          gordon->getValue<int>("user_id"));
    CHECK(f.as(session, "GET", "/rest/user").body ==
          R"({"success": false, "errors": ["You are not logged in."]})");
    const std::string fresh =
        changed.header("Set-Cookie").substr(0, changed.header("Set-Cookie").find(';'));
    CHECK(f.as(fresh, "GET", "/rest/user").status == 200);
    CHECK(f.login("gordon@example.com", "Black Mesa 1998").empty());

    const auto out = f.as(fresh, "DELETE", "/rest/authenticate");
    CHECK(out.body == R"({"success": true, "message": "You have been successfully logged out"})");
    CHECK_THAT(out.header("Set-Cookie"), Catch::Contains("Max-Age=0"));
    CHECK(f.as(fresh, "GET", "/rest/user").status == 401);
}

TEST_CASE("Expired tokens and idle sessions are refused", "[buzz]") {
    BuzzFixture f("    invite_ttl: 1s\n    session: {idle: 1s}\n");
    const std::string token = f.invite("late@example.com");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(f.setPassword("late@example.com", "Black Mesa 1998", token).body ==
          R"({"success": false, "errors": ["Invalid or expired login token."]})");
    const std::string root = f.login(kRootEmail, kRootPassword);
    CHECK(f.as(root, "GET", "/rest/user").status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(f.as(root, "GET", "/rest/user").status == 401);
}

TEST_CASE("A new token voids the old one, and lost-password answers do not tell who exists",
          "[buzz]") {
    BuzzFixture f;
    const std::string first = f.invite("alyx@example.com");
    const std::string root = f.login(kRootEmail, kRootPassword);
    REQUIRE(
        f.as(root, "POST", "/rest/resend_user_email", R"({"email": "alyx@example.com"})").status ==
        200);
    const auto mails = f.smtp.waitForMessages(2);
    REQUIRE(mails.size() == 2);
    const std::string second = linkIn(mails[1]).second;
    CHECK(second != first);
    CHECK(f.setPassword("alyx@example.com", "City 17 rebel", first).status == 400);
    CHECK(f.setPassword("alyx@example.com", "City 17 rebel", second).status == 200);

    const auto known = f.http->post("/rest/change_password", R"({"email": "alyx@example.com"})");
    const auto unknown =
        f.http->post("/rest/change_password", R"({"email": "nobody@example.com"})");
    CHECK(known.status == 200);
    CHECK(known.body == unknown.body);
    const auto resetMails = f.smtp.waitForMessages(3);
    REQUIRE(resetMails.size() == 3);
    CHECK_THAT(resetMails[2], Catch::Contains("To: <alyx@example.com>"));
    const std::string reset = linkIn(resetMails[2]).second;
    CHECK(f.setPassword("alyx@example.com", "A newer passphrase", reset).status == 200);
    CHECK_FALSE(f.login("alyx@example.com", "A newer passphrase").empty());
    // A reset (not the invitation) is followed by a notice, without a link.
    const auto notices = f.smtp.waitForMessages(4);
    REQUIRE(notices.size() == 4);
    CHECK_THAT(notices[3], Catch::Contains("To: <alyx@example.com>") &&
                               Catch::Contains("Subject: Your password was changed") &&
                               !Catch::Contains("token="));
    // No mail went anywhere for the unknown address.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(f.smtp.messages().size() == 4);
}

TEST_CASE("Wrong tokens are rate-limited per address and client, known or not", "[buzz]") {
    BuzzFixture f("    token_attempts: 3\n    token_account_attempts: 5\n    token_lockout: 1h\n");
    const std::string token = f.invite("target@example.com");
    for (int i = 0; i < 3; ++i) {
        const std::string guess = "guess" + std::to_string(i);
        CHECK(f.setPassword("target@example.com", "Black Mesa 1998", guess).status == 400);
        CHECK(f.setPassword("ghost@example.com", "Black Mesa 1998", guess).status == 400);
    }
    // Locked now: even the right token waits, and an unknown address gets the same answer.
    const auto locked = f.setPassword("target@example.com", "Black Mesa 1998", token);
    CHECK(locked.status == 429);
    CHECK_FALSE(locked.header("Retry-After").empty());
    const auto ghost = f.setPassword("ghost@example.com", "Black Mesa 1998", "guess");
    CHECK(ghost.status == 429);
    CHECK(ghost.body == locked.body);
    // Many clients together meet the looser limit per address (5 here): their wrong tokens are
    // answered 429...
    const HttpClient second(f.host->baseUrl(), "127.0.0.3");
    const auto guessAt = [](const std::string& email) {
        return R"({"email": ")" + email +
               R"(", "new_password": "Black Mesa 1998", "login_token": "x"})";
    };
    CHECK(second.request("PUT", "/rest/change_password", guessAt("target@example.com")).status ==
          400);
    CHECK(second.request("PUT", "/rest/change_password", guessAt("target@example.com")).status ==
          429);
    CHECK(HttpClient(f.host->baseUrl(), "127.0.0.4")
              .request("PUT", "/rest/change_password", guessAt("target@example.com"))
              .status == 429);
    CHECK(second.request("PUT", "/rest/change_password", guessAt("ghost@example.com")).status ==
          400);
    CHECK(second.request("PUT", "/rest/change_password", guessAt("ghost@example.com")).status ==
          429);
    // ...but no one can block the link: from a client that has not guessed, the token works.
    const HttpClient owner(f.host->baseUrl(), "127.0.0.2");
    CHECK(owner
              .request("PUT", "/rest/change_password",
                       R"({"email": "target@example.com", "new_password": "Black Mesa 1998",
                           "login_token": ")" +
                           token + "\"}")
              .status == 200);

    // Each use is an authentication event: who (or unknown), from where, the outcome, never
    // the token or the address.
    const std::string log = f.host->log();
    const auto events = [&](const std::string& text) {
        std::size_t n = 0;
        for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
            ++n;
        return n;
    };
    std::string lines;
    for (std::size_t at = log.find("auth event=login_token"); at != std::string::npos;
         at = log.find("auth event=login_token", at + 1))
        lines += log.substr(at, log.find('\n', at) - at + 1);
    INFO(lines);
    CHECK(events("auth event=login_token") == 14);
    CHECK(events("instance=1 user=2 client=127.0.0.1:") == 3); // the 3 wrong ones
    CHECK(events("outcome=failure reason=wrong_token\n") == 4);
    // A refusal by the client's lockout names no user: it is made before any lookup.
    CHECK(events("user=unknown client=127.0.0.1:") == 5);
    CHECK(events("outcome=failure reason=unknown_user\n") == 4);
    CHECK(events("outcome=refused reason=throttled\n") == 2);
    CHECK(events("outcome=failure reason=wrong_token_throttled\n") == 3);
    CHECK(events("user=2 client=127.0.0.2:") == 1);
    CHECK(events("outcome=success reason=invite\n") == 1);
    CHECK(log.find(token) == std::string::npos);
    CHECK(log.find("ghost@example.com") == std::string::npos);
}

TEST_CASE("Who may create users, and what only a super user may set", "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    // A super user may create an active user with a password directly.
    const std::string member = f.addActiveUser(root, "member@example.com", 2, "Member pass 1");
    // The member role reads users but may not create them.
    CHECK(f.as(member, "GET", "/rest/user").status == 200);
    CHECK(
        f.as(member, "POST", "/rest/user", R"({"email": "x@example.com", "role_id": 2})").status ==
        403);
    CHECK(f.as(member, "PUT", "/rest/user", R"({"user_id": 2, "role_id": 1})").status == 403);
    // A manager may create users, but not set passwords, activity or super users.
    const std::string boss = f.addActiveUser(root, "boss@example.com", 1, "Manager pass 1");
    CHECK(
        f.as(boss, "POST", "/rest/user", R"({"email": "new@example.com", "role_id": 2})").status ==
        201);
    CHECK(f.as(boss, "POST", "/rest/user",
               R"({"email": "sneaky@example.com", "role_id": 2, "super_user": true})")
              .status == 403);
    CHECK(f.as(boss, "POST", "/rest/user", R"({"email": "x@example.com", "role_id": 99})").body ==
          R"({"success": false, "errors": ["role_id: must name an existing, active role"]})");
    CHECK(
        f.as(boss, "POST", "/rest/user", R"({"email": "new@example.com", "role_id": 2})").status ==
        400);
    CHECK(f.as(boss, "POST", "/rest/user", R"({"role_id": 2})").body ==
          R"({"success": false, "errors": ["email: is required"]})");
    // Roles: anyone logged in reads them; only a super user changes them.
    CHECK(f.as(member, "GET", "/rest/role").json()->getArray("payload")->size() == 2);
    CHECK(f.as(boss, "POST", "/rest/role", R"({"role_name": "x"})").status == 403);
    const auto role =
        f.as(root, "POST", "/rest/role", R"({"role_name": "auditor", "permissions": {"user": 1}})");
    CHECK(role.status == 201);
    CHECK(role.json()->getObject("payload")->getValue<int>("role_id") == 3);
    // Filters on the user list.
    const auto filtered = f.as(root, "GET", "/rest/user?role_id=1");
    CHECK(filtered.json()->getArray("payload")->size() == 1);
}

namespace {

/// The user id of the first user the super user sees with this email.
long long idOf(BuzzFixture& f, const std::string& root, const std::string& email) {
    const auto found = f.as(root, "GET", "/rest/user?email=" + email);
    const auto list = found.json()->getArray("payload");
    REQUIRE(list->size() == 1);
    return list->getObject(0)->getValue<long long>("user_id");
}

std::string userJson(long long id, const std::string& fields) {
    return R"({"user_id": )" + std::to_string(id) + (fields.empty() ? "" : ", " + fields) + "}";
}

} // namespace

TEST_CASE("A role that may change users cannot take over super users or stronger roles", "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    const long long rootId = idOf(f, root, kRootEmail);
    const std::string boss = f.addActiveUser(root, "boss@example.com", 1, "Manager pass 1");
    const std::string member = f.addActiveUser(root, "member@example.com", 2, "Member pass 1");
    const long long memberId = idOf(f, root, "member@example.com");

    // The manager role (user: 15) may change ordinary users, but not their address...
    CHECK(f.as(boss, "PUT", "/rest/user", userJson(memberId, R"("first_name": "M")")).status ==
          200);
    CHECK(f.as(boss, "PUT", "/rest/user", userJson(memberId, R"("email": "mine@example.com")"))
              .status == 403);
    // ...and nothing of a super user.
    CHECK(f.as(boss, "PUT", "/rest/user", userJson(rootId, R"("first_name": "R")")).status == 403);
    CHECK(f.as(boss, "DELETE", "/rest/user", userJson(rootId, "")).status == 403);
    // A role with permissions the manager lacks can neither be handed out nor be changed by it.
    const auto admin = f.as(root, "POST", "/rest/role",
                            R"({"role_name": "admin", "permissions": {"user": 15, "role": 1}})");
    REQUIRE(admin.status == 201);
    const auto adminRole = admin.json()->getObject("payload")->getValue<int>("role_id");
    CHECK(f.as(boss, "POST", "/rest/user",
               R"({"email": "x@example.com", "role_id": )" + std::to_string(adminRole) + "}")
              .status == 403);
    CHECK(f.as(boss, "PUT", "/rest/user",
               userJson(memberId, R"("role_id": )" + std::to_string(adminRole)))
              .status == 403);
    REQUIRE(f.as(root, "POST", "/rest/user",
                 R"({"email": "peer@example.com", "role_id": )" + std::to_string(adminRole) + "}")
                .status == 201);
    const long long peerId = idOf(f, root, "peer@example.com");
    CHECK(f.as(boss, "PUT", "/rest/user", userJson(peerId, R"("notes": "x")")).status == 403);
    CHECK(f.as(boss, "DELETE", "/rest/user", userJson(peerId, "")).status == 403);
    // Anyone may change its own name.
    CHECK(f.as(member, "PUT", "/rest/user", userJson(memberId, R"("last_name": "Me")")).status ==
          200);

    // The last active super user cannot go.
    CHECK(f.as(root, "DELETE", "/rest/user", userJson(rootId, "")).status == 409);
    CHECK(f.as(root, "PUT", "/rest/user", userJson(rootId, R"("super_user": false)")).status ==
          409);
    CHECK(f.as(root, "PUT", "/rest/user", userJson(rootId, R"("active": false)")).status == 409);
    // With a second one it can.
    const long long bossId = idOf(f, root, "boss@example.com");
    REQUIRE(f.as(root, "PUT", "/rest/user", userJson(bossId, R"("super_user": true)")).status ==
            200);
    CHECK(f.as(root, "PUT", "/rest/user", userJson(rootId, R"("super_user": false)")).status ==
          200);
}

TEST_CASE("Deactivating a user or moving its address voids its tokens and sessions", "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);

    // Deactivated: its session ends at once, and lost-password mail is not sent to it.
    const std::string leaver = f.addActiveUser(root, "leaver@example.com", 2, "Leaver pass 1");
    const long long leaverId = idOf(f, root, "leaver@example.com");
    REQUIRE(f.as(leaver, "GET", "/rest/user").status == 200);
    REQUIRE(f.as(root, "PUT", "/rest/user", userJson(leaverId, R"("active": false)")).status ==
            200);
    CHECK(f.as(leaver, "GET", "/rest/user").status == 401);
    CHECK(f.login("leaver@example.com", "Leaver pass 1").empty());

    // A password set through the v1.1 API ends the /rest sessions of the old one too.
    const std::string both = f.addActiveUser(root, "both@example.com", 2, "Both pass 123");
    REQUIRE(f.as(both, "GET", "/rest/user").status == 200);
    const auto changed = f.http->request(
        "PATCH",
        "/v1.1/instances/buzz-app/users/" + std::to_string(idOf(f, root, "both@example.com")) + "/",
        R"({"password": "Another pass 456"})", {{"X-API-KEY", adminAccountKey(*f.http)}});
    REQUIRE(changed.status == 200);
    CHECK(f.as(both, "GET", "/rest/user").status == 401);
    CHECK_FALSE(f.login("both@example.com", "Another pass 456").empty());
    REQUIRE(f.smtp.waitForMessages(1).size() == 1); // its notice

    // An invitation is void once cancelled by deactivation.
    const std::string cancelled = f.invite("cancelled@example.com", 1);
    const long long cancelledId = idOf(f, root, "cancelled@example.com");
    REQUIRE(f.as(root, "PUT", "/rest/user", userJson(cancelledId, R"("active": false)")).status ==
            200);
    CHECK(f.setPassword("cancelled@example.com", "Some pass 123", cancelled).status == 400);

    // A token mailed to the old address dies with it; the new address gets a new one.
    const std::string old = f.invite("old@example.com", 2);
    const long long movedId = idOf(f, root, "old@example.com");
    REQUIRE(f.as(root, "PUT", "/rest/user", userJson(movedId, R"("email": "new@example.com")"))
                .status == 200);
    CHECK(f.setPassword("new@example.com", "Some pass 123", old).status == 400);
    REQUIRE(f.as(root, "POST", "/rest/resend_user_email", userJson(movedId, "")).status == 200);
    // Five mails: the notice of both@'s v1.1 password change, two invitations, and now these.
    const auto mails = f.smtp.waitForMessages(5);
    REQUIRE(mails.size() == 5);
    const auto mailTo = [&](const std::string& address, const std::string& subject) {
        std::vector<std::string> found;
        for (const auto& mail : mails) {
            if (mail.find("To: <" + address + ">") != std::string::npos &&
                mail.find("Subject: " + subject) != std::string::npos)
                found.push_back(mail);
        }
        return found;
    };
    CHECK(mailTo("both@example.com", "Your password was changed").size() == 1);
    // The old address hears of the move (no link in it), the new one gets the invitation.
    const auto moveNotice = mailTo("old@example.com", "The address of your account was changed");
    REQUIRE(moveNotice.size() == 1);
    CHECK_THAT(moveNotice[0], !Catch::Contains("token="));
    const auto invitation = mailTo("new@example.com", "");
    REQUIRE(invitation.size() == 1);
    CHECK(f.setPassword("new@example.com", "Some pass 123", linkIn(invitation[0]).second).status ==
          200);

    // A user that moves its own address needs its current password (a stolen cookie is not
    // enough), and continues in a fresh session; the old one ends.
    const std::string moved = f.login("new@example.com", "Some pass 123");
    const auto withoutPassword =
        f.as(moved, "PUT", "/rest/user", userJson(movedId, R"("email": "newer@example.com")"));
    CHECK(withoutPassword.status == 400);
    CHECK(
        withoutPassword.body ==
        R"({"success": false, "errors": ["current_password: is required to change your own email"]})");
    CHECK(f.as(moved, "PUT", "/rest/user",
               userJson(movedId, R"("email": "newer@example.com", "current_password": "guess-1")"))
              .status == 401);
    const auto self = f.as(moved, "PUT", "/rest/user",
                           userJson(movedId, R"("email": "newer@example.com", )"
                                             R"("current_password": "Some pass 123")"));
    REQUIRE(self.status == 200);
    CHECK(f.as(moved, "GET", "/rest/user").status == 401);
    const std::string fresh = self.header("Set-Cookie");
    CHECK(f.as(fresh.substr(0, fresh.find(';')), "GET", "/rest/user").status == 200);
}

TEST_CASE("A super user setting its own password needs the current one and continues in a "
          "fresh session",
          "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    const long long rootId = idOf(f, root, kRootEmail);
    const auto bare =
        f.as(root, "PUT", "/rest/user", userJson(rootId, R"("password": "New root 12")"));
    CHECK(bare.status == 400);
    CHECK(
        bare.body ==
        R"({"success": false, "errors": ["current_password: is required to set your own password"]})");
    CHECK(f.as(root, "PUT", "/rest/user",
               userJson(rootId, R"("password": "New root 12", "current_password": "guess-1")"))
              .status == 401);
    CHECK(f.login(kRootEmail, "New root 12").empty());
    const auto set = f.as(root, "PUT", "/rest/user",
                          userJson(rootId, std::string(R"("password": "New root 12", )") +
                                               R"("current_password": ")" + kRootPassword + '"'));
    REQUIRE(set.status == 200);
    CHECK(f.as(root, "GET", "/rest/user").status == 401);
    const std::string fresh = set.header("Set-Cookie");
    CHECK(f.as(fresh.substr(0, fresh.find(';')), "GET", "/rest/user").status == 200);
    CHECK_FALSE(f.login(kRootEmail, "New root 12").empty());
}

TEST_CASE("A user deleted through the v1.1 API is gone from the /rest flow too", "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    const auto created = f.as(root, "POST", "/rest/user",
                              R"({"email": "second@example.com", "role_id": 1, "password": )"
                              R"("Second pass 1", "active": true, "super_user": true})");
    REQUIRE(created.status == 201);
    const long long secondId = idOf(f, root, "second@example.com");
    const std::string second = f.login("second@example.com", "Second pass 1");
    REQUIRE_FALSE(second.empty());

    const auto deleted = f.http->request(
        "DELETE", "/v1.1/instances/buzz-app/users/" + std::to_string(secondId) + "/", "",
        {{"X-API-KEY", adminAccountKey(*f.http)}});
    REQUIRE(deleted.status == 204);
    // Its session went with it (the store's), and so did the flow's own attributes: the root is
    // the last active super user again, so it may not step down.
    CHECK(f.as(second, "GET", "/rest/user").status == 401);
    const long long rootId = idOf(f, root, kRootEmail);
    const auto stepDown =
        f.as(root, "PUT", "/rest/user", userJson(rootId, R"("super_user": false)"));
    CHECK(stepDown.status == 409);
    CHECK_THAT(stepDown.body, Catch::Contains("last active super user"));
}

TEST_CASE("Config roles are read-only, role ids are never reused, and roles in use stay",
          "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    CHECK(f.as(root, "PUT", "/rest/role", R"({"role_id": 1, "role_name": "x"})").status == 403);
    CHECK(f.as(root, "DELETE", "/rest/role", R"({"role_id": 2})").status == 403);

    const auto roleId = [](const HttpResult& r) {
        return r.json()->getObject("payload")->getValue<int>("role_id");
    };
    const auto temp = f.as(root, "POST", "/rest/role", R"({"role_name": "temp"})");
    REQUIRE(temp.status == 201);
    CHECK(roleId(temp) == 3);
    CHECK(f.as(root, "DELETE", "/rest/role", R"({"role_id": 3})").status == 200);
    const auto next = f.as(root, "POST", "/rest/role", R"({"role_name": "next"})");
    REQUIRE(next.status == 201);
    CHECK(roleId(next) == 4);

    CHECK(
        f.as(root, "POST", "/rest/role", R"({"role_name": "orphan", "parent_role_id": 99})").body ==
        R"({"success": false, "errors": ["parent_role_id: must name another existing role"]})");
    CHECK(f.as(root, "POST", "/rest/role",
               R"({"role_name": "big", "permissions": {"user": 99999999999999999999}})")
              .status == 400);
    CHECK(f.as(root, "POST", "/rest/role", R"({"role_name": "text", "permissions": {"user": "x"}})")
              .status == 400);
    CHECK(f.as(root, "POST", "/rest/role", R"({"role_name": "", "permissions": {}})").status ==
          400);
    CHECK(f.as(root, "PUT", "/rest/role", R"({"role_id": 4, "permissions": [1]})").body ==
          R"({"success": false, "errors": ["permissions: must be an object"]})");

    // A role in use, or the parent of another, stays until that changes.
    REQUIRE(
        f.as(root, "POST", "/rest/user", R"({"email": "r@example.com", "role_id": 4})").status ==
        201);
    CHECK(f.as(root, "DELETE", "/rest/role", R"({"role_id": 4})").status == 409);
    const long long userId = idOf(f, root, "r@example.com");
    REQUIRE(f.as(root, "PUT", "/rest/user", userJson(userId, R"("role_id": 2)")).status == 200);
    const auto child =
        f.as(root, "POST", "/rest/role", R"({"role_name": "c", "parent_role_id": 4})");
    REQUIRE(child.status == 201);
    CHECK(f.as(root, "DELETE", "/rest/role", R"({"role_id": 4})").status == 409);
    CHECK(f.as(root, "DELETE", "/rest/role", R"({"role_id": 999})").status == 404);
    REQUIRE(
        f.as(root, "DELETE", "/rest/role", R"({"role_id": )" + std::to_string(roleId(child)) + "}")
            .status == 200);
    CHECK(f.as(root, "DELETE", "/rest/role", R"({"role_id": 4})").status == 200);
}

TEST_CASE("Only JSON bodies are read: forms and text/plain are refused", "[buzz]") {
    BuzzFixture f;
    const auto form =
        f.http->request("POST", "/rest/authenticate", "email=root%40example.com&password=x", {},
                        "application/x-www-form-urlencoded");
    CHECK(form.status == 415);
    CHECK(form.body == R"({"success": false, "errors": ["Send the body as JSON )"
                       R"((Content-Type: application/json)."]})");
    CHECK(f.http
              ->request("POST", "/rest/authenticate", R"({"email": "a@b.c", "password": "x"})", {},
                        "text/plain")
              .status == 415);
    // `curl -d '{...}'` labels JSON as a form: that is still read as JSON.
    CHECK(f.http
              ->request("POST", "/rest/authenticate",
                        std::string(R"({"email": ")") + kRootEmail + R"(", "password": ")" +
                            kRootPassword + "\"}",
                        {}, "application/x-www-form-urlencoded")
              .status == 200);
}

TEST_CASE("Lost-password mail goes once per cooldown, and names are not read as placeholders",
          "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    REQUIRE(f.as(root, "POST", "/rest/user",
                 R"({"email": "curly@example.com", "role_id": 2, "first_name": "{{token}}"})")
                .status == 201);
    auto mails = f.smtp.waitForMessages(1);
    REQUIRE(mails.size() == 1);
    CHECK_THAT(decodeQuotedPrintable(mails[0]), Catch::Contains("Hello {{token}},"));
    REQUIRE(f.setPassword("curly@example.com", "Curly pass 123", linkIn(mails[0]).second).status ==
            200);

    for (int i = 0; i < 3; ++i) {
        CHECK(f.http->post("/rest/change_password", R"({"email": "curly@example.com"})").status ==
              200);
    }
    mails = f.smtp.waitForMessages(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(f.smtp.messages().size() == 2);
}

TEST_CASE("Shutdown sends queued mail until mail.drain, then exits cleanly", "[buzz]") {
    // Each message takes the SMTP server a second; the host may wait 300 ms for the queue.
    BuzzFixture f("    mail: {drain: 300ms}\n", SmtpSink::Options{"", "", "", "", 0, 1.0});
    const std::string root = f.login(kRootEmail, kRootPassword);
    for (int i = 0; i < 4; ++i) {
        REQUIRE(f.as(root, "POST", "/rest/user",
                     R"({"email": "q)" + std::to_string(i) + R"(@example.com", "role_id": 2})")
                    .status == 201);
    }
    CHECK(f.host->stop() == 0);
    CHECK_THAT(f.host->log(), Catch::Contains("queued mails dropped at shutdown"));
    CHECK(f.smtp.messages().size() < 4);
}

TEST_CASE("Sessions are Secure cookies when the public URL is https", "[buzz]") {
    BuzzFixture f("", {}, "https://auth.example.com");
    const auto login = f.http->post(
        "/rest/authenticate", std::string(R"({"email": ")") + kRootEmail + R"(", "password": ")" +
                                  kRootPassword + R"(", "keep_logged_in": true})");
    REQUIRE(login.status == 200);
    CHECK_THAT(login.header("Set-Cookie"),
               Catch::Contains("; Secure") && Catch::Contains("Max-Age="));
}

TEST_CASE("Mail that cannot be sent never loses the user, and resending works", "[buzz]") {
    // The SMTP server refuses the first two messages: both attempts of the invitation.
    BuzzFixture f("", SmtpSink::Options{"", "", "", "", 2});
    const std::string root = f.login(kRootEmail, kRootPassword);
    REQUIRE(f.as(root, "POST", "/rest/user", R"({"email": "unlucky@example.com", "role_id": 2})")
                .status == 201);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(f.smtp.messages().empty());
    CHECK_THAT(f.host->log(), Catch::Contains("failed: smtp: could not send after 2 attempts"));
    CHECK(f.as(root, "GET", "/rest/user?email=unlucky@example.com")
              .json()
              ->getArray("payload")
              ->size() == 1);
    REQUIRE(f.as(root, "POST", "/rest/resend_user_email", R"({"email": "unlucky@example.com"})")
                .status == 200);
    const auto mails = f.smtp.waitForMessages(1);
    REQUIRE(mails.size() == 1);
    CHECK(f.setPassword("unlucky@example.com", "Finally in 2000", linkIn(mails[0]).second).status ==
          200);
}

TEST_CASE("Buzz errors use the envelope, bad input included", "[buzz]") {
    BuzzFixture f;
    CHECK(f.http->get("/rest/nothing").body == R"({"success": false, "errors": ["Not found."]})");
    CHECK(f.http->post("/rest/authenticate", "{broken").body ==
          R"({"success": false, "errors": ["The body is not valid JSON."]})");
    CHECK(f.http->post("/rest/authenticate", R"({"email": "a@b.c", "password": "x", "extra": 1})")
              .body == R"({"success": false, "errors": ["extra: is not a known field"]})");
    const auto wrong =
        f.http->post("/rest/authenticate", R"({"email": "root@example.com", "password": "nope"})");
    const auto unknown =
        f.http->post("/rest/authenticate", R"({"email": "who@example.com", "password": "nope"})");
    CHECK(wrong.status == 401);
    CHECK(wrong.body == unknown.body);
    CHECK(f.http->get("/rest/user").status == 401);
    CHECK(f.http->request("PATCH", "/rest/user", "{}").status == 405);
}

TEST_CASE("The flow answers at every mount, with one set of users and sessions", "[buzz]") {
    BuzzFixture f("    mount: [/rest, /buzz/rest]\n");
    // The Buzz guide logs in at /buzz/rest/authenticate: the cookie is for that mount.
    const auto login =
        f.http->post("/buzz/rest/authenticate", std::string(R"({"email": ")") + kRootEmail +
                                                    R"(", "password": ")" + kRootPassword + "\"}");
    REQUIRE(login.status == 200);
    CHECK_THAT(login.header("Set-Cookie"), Catch::Contains("; Path=/buzz/rest;"));
    const std::string cookie =
        login.header("Set-Cookie").substr(0, login.header("Set-Cookie").find(';'));
    CHECK(f.as(cookie, "GET", "/buzz/rest/user").status == 200);
    CHECK(f.as(cookie, "GET", "/rest/user").status == 200); // the same sessions
    CHECK(f.http->get("/buzz/rest/nothing").body ==
          R"({"success": false, "errors": ["Not found."]})");
    CHECK_THAT(f.http->get("/buzz/rest/set-password").body,
               Catch::Contains("/buzz/rest/change_password"));
    // A user invited through one mount is the same user at the other; mailed links use the
    // first mount.
    const std::string root = f.login(kRootEmail, kRootPassword);
    REQUIRE(f.as(root, "POST", "/buzz/rest/user",
                 R"({"email": "both@example.com", "role_id": 2, "first_name": "B"})")
                .status == 201);
    const auto mails = f.smtp.waitForMessages(1);
    REQUIRE(mails.size() == 1);
    CHECK_THAT(mails.back(), Catch::Contains("/rest/set-password#"));
    const auto out = f.as(cookie, "DELETE", "/buzz/rest/authenticate");
    CHECK(out.status == 200);
    CHECK_THAT(out.header("Set-Cookie"), Catch::Contains("; Path=/buzz/rest;"));
}

TEST_CASE("Mounts must be distinct paths, none under another or /v1.1", "[buzz]") {
    TempDir dir;
    for (const std::string mounts :
         {"[/rest, /rest]", "[/rest, /rest/inner]", "[/v1.1/buzz]", "[]"}) {
        INFO(mounts);
        const auto result = runLatchkey(
            {"check-config", "-c",
             dir.write("latchkey.yaml",
                       testConfig(dir, "", "  login-token:\n    mount: " + mounts + "\n"))});
        CHECK(result.exitCode != 0);
        CHECK_THAT(result.out + result.err, Catch::Contains("auth.login-token.mount"));
    }
}

TEST_CASE("The set-password page is self-contained, with strict headers", "[buzz]") {
    BuzzFixture f;
    const auto page = f.http->get("/rest/set-password");
    REQUIRE(page.status == 200);
    CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
    const std::string csp = page.header("Content-Security-Policy");
    CHECK_THAT(csp, Catch::StartsWith("default-src 'none'; script-src 'nonce-"));
    CHECK_THAT(csp, Catch::Contains("frame-ancestors 'none'"));
    CHECK(page.header("Referrer-Policy") == "no-referrer");
    CHECK(page.header("Cache-Control") == "no-store");
    CHECK_THAT(page.body, Catch::Contains("\"/rest/change_password\""));
    // No external assets.
    CHECK_THAT(page.body, !Catch::Contains("http://") && !Catch::Contains("https://"));
    const std::string nonce = csp.substr(csp.find("nonce-") + 6, 24);
    CHECK_THAT(page.body, Catch::Contains("<script nonce=\"" + nonce + "\">"));
    CHECK(f.http->get("/rest/set-password").header("Content-Security-Policy") != csp);
}

TEST_CASE("The first super user needs a real password", "[buzz]") {
    TempDir dir;
    const std::string config =
        dir.write("latchkey.yaml",
                  testConfig(dir, "",
                             "  login-token:\n    instance: buzz-app\n"
                             "    super_user: {email: root@example.com, password: short}\n"));
    const auto result = runLatchkey({"serve", "-c", config});
    CHECK(result.exitCode == 1);
    CHECK_THAT(result.err,
               Catch::Contains("super_user.password: Ensure this field has at least 8"));
}

TEST_CASE("The emailed link works in a real browser (headless Chromium)", "[buzz][browser]") {
    const std::string e2e = std::string(LATCHKEY_TEST_SOURCE_DIR) + "/tests/e2e";
    if (!std::filesystem::exists(e2e + "/node_modules/playwright-core/package.json") ||
        !std::filesystem::exists("/usr/bin/chromium")) {
        FAIL("needs Debian's chromium and `npm ci` in tests/e2e (scripts/test does both)");
    }
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    REQUIRE(f.as(root, "POST", "/rest/user", R"({"email": "browser@example.com", "role_id": 2})")
                .status == 201);
    const auto mails = f.smtp.waitForMessages(1);
    REQUIRE(mails.size() == 1);
    const std::string link = linkIn(mails[0]).first;
    CHECK_THAT(link, Catch::StartsWith(f.host->baseUrl() + "/rest/set-password#email="));

    const std::string log = f.dir.file("browser.log");
    const std::string command = "cd '" + e2e + "' && node set_password_e2e.js '" + link +
                                "' 'Chosen in a browser 1' '" + f.dir.file("page.png") + "' > '" +
                                log + "' 2>&1";
    const int status = std::system(command.c_str()); // NOLINT(concurrency-mt-unsafe)
    INFO(readFile(log));
    CHECK(status == 0);
    CHECK_THAT(readFile(log), Catch::Contains("\"email\":\"browser@example.com\""));
    // The link cleared itself from the address bar, and the password works.
    CHECK_THAT(readFile(log),
               Catch::Contains("\"urlAfter\":\"" + f.host->baseUrl() + "/rest/set-password\""));
    CHECK_FALSE(f.login("browser@example.com", "Chosen in a browser 1").empty());
    // The token was used up.
    CHECK(f.setPassword("browser@example.com", "Another try 2", linkIn(mails[0]).second).status ==
          400);
}

TEST_CASE("One rule set for both APIs: deactivation, new passwords, the last super user",
          "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    const std::string account = adminAccountKey(*f.http);
    const auto created =
        f.http->post("/v1.1/instances/buzz-app/api_keys/", "{}", {{"X-API-KEY", account}});
    REQUIRE(created.status == 201);
    const auto apiKey = created.json()->getValue<std::string>("api_key");
    const auto v11Login = [&](const std::string& username, const std::string& password) {
        return f.http->post("/v1.1/instances/buzz-app/user/auth/",
                            R"({"username": ")" + username + R"(", "password": ")" + password +
                                "\"}",
                            {{"X-API-KEY", apiKey}});
    };

    SECTION("a user deactivated in /rest cannot log in or use its key through v1.1") {
        const std::string cookie = f.addActiveUser(root, "quiet@example.com", 2, "Quiet pass 1");
        const long long id = idOf(f, root, "quiet@example.com");
        const auto before = v11Login("quiet@example.com", "Quiet pass 1");
        REQUIRE(before.status == 200);
        const auto userKey = before.json()->getValue<std::string>("user_key");
        const Headers keys{{"X-API-KEY", apiKey}, {"X-USER-KEY", userKey}};
        REQUIRE(f.http->request("GET", "/v1.1/instances/buzz-app/user/", "", keys).status == 200);

        REQUIRE(f.as(root, "PUT", "/rest/user", userJson(id, R"("active": false)")).status == 200);
        // The same answer as a wrong password, and the key is as unknown as a made-up one.
        const auto refused = v11Login("quiet@example.com", "Quiet pass 1");
        CHECK(refused.status == 401);
        CHECK(refused.body == v11Login("quiet@example.com", "Wrong pass 1").body);
        CHECK(f.http->request("GET", "/v1.1/instances/buzz-app/user/", "", keys).status == 403);
        CHECK(f.as(cookie, "GET", "/rest/user").status == 401);

        // Active again: both APIs let it in with what it had.
        REQUIRE(f.as(root, "PUT", "/rest/user", userJson(id, R"("active": true)")).status == 200);
        CHECK(f.http->request("GET", "/v1.1/instances/buzz-app/user/", "", keys).status == 200);
        CHECK(v11Login("quiet@example.com", "Quiet pass 1").status == 200);
        CHECK_FALSE(f.login("quiet@example.com", "Quiet pass 1").empty());
    }

    SECTION("a password set through v1.1 voids the mailed token of /rest") {
        const std::string token = f.invite("invited@example.com");
        const long long id = idOf(f, root, "invited@example.com");
        REQUIRE(f.http
                    ->request("PATCH", "/v1.1/instances/buzz-app/users/" + std::to_string(id) + "/",
                              R"({"password": "Chosen pass 1"})", {{"X-API-KEY", account}})
                    .status == 200);
        CHECK(f.setPassword("invited@example.com", "Other pass 12", token).status == 400);
    }

    SECTION("a password changed through v1.1 is noticed like one changed in /rest, once each") {
        f.addActiveUser(root, "keyed@example.com", 2, "Keyed pass 1");
        const long long id = idOf(f, root, "keyed@example.com");
        const auto notices = [&] {
            std::size_t n = 0;
            for (const auto& mail : f.smtp.messages())
                n += mail.find("To: <keyed@example.com>") != std::string::npos &&
                     mail.find("Subject: Your password was changed") != std::string::npos;
            return n;
        };
        const std::size_t before = f.smtp.messages().size();
        // With the user's own key (a stolen one, say): the owner hears of it.
        const auto userKey = v11Login("keyed@example.com", "Keyed pass 1").str("user_key");
        REQUIRE(f.http
                    ->request("PATCH", "/v1.1/instances/buzz-app/user/",
                              R"({"password": "Keyed pass 2"})",
                              {{"X-API-KEY", apiKey}, {"X-USER-KEY", userKey}})
                    .status == 200);
        REQUIRE(f.smtp.waitForMessages(before + 1).size() == before + 1);
        CHECK(notices() == 1);
        // A super user's change in /rest: one notice, not one from each path.
        REQUIRE(
            f.as(root, "PUT", "/rest/user", userJson(id, R"("password": "Keyed pass 3")")).status ==
            200);
        REQUIRE(f.smtp.waitForMessages(before + 2).size() == before + 2);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        CHECK(f.smtp.messages().size() == before + 2);
        CHECK(notices() == 2);
        // The notice carries no secret.
        for (const auto& mail : f.smtp.messages()) {
            CHECK(mail.find("Keyed pass") == std::string::npos);
            CHECK(mail.find(userKey) == std::string::npos);
        }
    }

    SECTION("a v1.1 rename of a flow user tells the address it had, even with a new password") {
        f.addActiveUser(root, "owner@example.com", 2, "Owner pass 1");
        const auto userKey = v11Login("owner@example.com", "Owner pass 1").str("user_key");
        const std::size_t before = f.smtp.waitForMessages(0).size();
        // A stolen user key moves the account to another address and sets a password at once.
        REQUIRE(f.http
                    ->request("PATCH", "/v1.1/instances/buzz-app/user/",
                              R"({"username": "thief@example.com", "password": "Thief pass 1"})",
                              {{"X-API-KEY", apiKey}, {"X-USER-KEY", userKey}})
                    .status == 200);
        const auto mails = f.smtp.waitForMessages(before + 2);
        REQUIRE(mails.size() == before + 2);
        std::size_t toOwner = 0;
        for (std::size_t i = before; i < mails.size(); ++i) {
            if (mails[i].find("To: <owner@example.com>") == std::string::npos) continue;
            ++toOwner;
            CHECK_THAT(mails[i], Catch::Contains("Subject: The address of your account was "
                                                 "changed") &&
                                     !Catch::Contains("token=") && !Catch::Contains("Thief"));
        }
        CHECK(toOwner == 1);
        // Renamed back by a super user through /rest: one notice (the flow's own), to thief@.
        const long long id = idOf(f, root, "thief@example.com");
        REQUIRE(f.as(root, "PUT", "/rest/user", userJson(id, R"("email": "owner@example.com")"))
                    .status == 200);
        REQUIRE(f.smtp.waitForMessages(before + 3).size() == before + 3);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const auto after = f.smtp.messages();
        CHECK(after.size() == before + 3);
        CHECK_THAT(after.back(), Catch::Contains("To: <thief@example.com>"));
    }

    SECTION("a password set through /rest voids the user's other sessions and tokens") {
        const std::string cookie = f.addActiveUser(root, "twice@example.com", 2, "Twice pass 1");
        const long long id = idOf(f, root, "twice@example.com");
        REQUIRE(
            f.as(root, "PUT", "/rest/user", userJson(id, R"("password": "Twice pass 2")")).status ==
            200);
        CHECK(f.as(cookie, "GET", "/rest/user").status == 401);
        CHECK(v11Login("twice@example.com", "Twice pass 1").status == 401);
        CHECK(v11Login("twice@example.com", "Twice pass 2").status == 200);
    }

    SECTION("the last active super user cannot be deleted through v1.1") {
        const long long rootId = idOf(f, root, kRootEmail);
        const std::string path = "/v1.1/instances/buzz-app/users/" + std::to_string(rootId) + "/";
        const auto refused = f.http->request("DELETE", path, "", {{"X-API-KEY", account}});
        CHECK(refused.status == 409);
        CHECK_THAT(refused.body, Catch::Contains("last active super user"));
        CHECK(f.as(root, "GET", "/rest/user").status == 200);
        // With a second active super user, it can.
        REQUIRE(f.as(root, "POST", "/rest/user",
                     R"({"email": "heir@example.com", "role_id": 1, "password": "Heir pass 1", )"
                     R"("active": true, "super_user": true})")
                    .status == 201);
        CHECK(f.http->request("DELETE", path, "", {{"X-API-KEY", account}}).status == 204);
        CHECK(f.as(root, "GET", "/rest/user").status == 401);
    }
}

TEST_CASE("Data of login-token 1.x moves at start, and an invitation mailed before still works",
          "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    const std::string token = f.invite("early@example.com");
    const long long rootId = idOf(f, root, kRootEmail);
    const long long earlyId = idOf(f, root, "early@example.com");
    REQUIRE(f.host->stop() == 0);

    // Put the database back the way login-token 1.x and schema 4 left it: the attributes with an
    // `active` flag under user/<instance>/<user>, no user states (schema 5), no index of users
    // by instance and id (schema 6).
    const auto database = testDatabaseFor(f.dir);
    const auto sql = [&](const std::string& statement) -> std::string {
        if (database) return database->query(statement);
        const std::string command = "sqlite3 -batch " + f.dir.file("latchkey.db") + " < " +
                                    f.dir.write("statement.sql", statement + ";\n");
        std::string out;
        FILE* pipe = popen(command.c_str(), "r");
        REQUIRE(pipe);
        char buf[256];
        while (fgets(buf, sizeof buf, pipe))
            out += buf;
        REQUIRE(pclose(pipe) == 0);
        return out;
    };
    const std::string instance =
        std::to_string(std::stoll(sql("SELECT id FROM instances WHERE name = 'buzz-app'")));
    const auto legacyKey = [&](long long id) {
        char key[64];
        std::snprintf(key, sizeof key, "user/%s/%020lld", instance.c_str(), id);
        return std::string(key);
    };
    sql("DELETE FROM kv_store WHERE ns = 'login-token' AND (k LIKE 'member/%' OR k LIKE "
        "'super/%' OR k LIKE 'role-users/%')");
    sql("INSERT INTO kv_store (ns, k, v) VALUES ('login-token', '" + legacyKey(rootId) +
        R"(', '{"first_name": "", "last_name": "", "notes": "", "role_id": null, )"
        R"("active": true, "super_user": true}'))");
    sql("INSERT INTO kv_store (ns, k, v) VALUES ('login-token', '" + legacyKey(earlyId) +
        R"(', '{"first_name": "G", "last_name": "", "notes": "", "role_id": 2, )"
        R"("active": false, "super_user": false}'))");
    sql("DROP TABLE inactive_users");
    sql(database && database->driver() == "mysql" ? "DROP INDEX users_instance ON users"
                                                  : "DROP INDEX users_instance");
    sql("DELETE FROM schema_migrations WHERE version >= 5");

    f.host = std::make_unique<HostProcess>(f.dir.file("latchkey.yaml"));
    f.http = std::make_unique<HttpClient>(f.host->baseUrl());
    CHECK_THAT(f.host->log(), Catch::Contains("moved 2 members to the 2.x layout"));
    const std::string again = f.login(kRootEmail, kRootPassword);
    REQUIRE_FALSE(again.empty());
    // Still inactive, still invited: the mailed token activates it, as before the upgrade.
    const auto listed = f.as(again, "GET", "/rest/user?email=early@example.com");
    CHECK_THAT(listed.body,
               Catch::Contains(R"("active": false)") && Catch::Contains(R"("first_name": "G")"));
    CHECK(f.setPassword("early@example.com", "Early pass 12", token).status == 200);
    CHECK_FALSE(f.login("early@example.com", "Early pass 12").empty());
    // The root is still the last active super user.
    CHECK(f.as(again, "PUT", "/rest/user", userJson(rootId, R"("super_user": false)")).status ==
          409);
}

TEST_CASE("resend_user_email never re-activates a user a super user deactivated", "[buzz]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    f.addActiveUser(root, "eli@example.com", 2, "Vance pass 1998");
    const auto users = f.as(root, "GET", "/rest/user?email=eli@example.com");
    REQUIRE(users.status == 200);
    const auto id = users.json()->getArray("payload")->getObject(0)->getValue<int>("user_id");
    REQUIRE(f.as(root, "PUT", "/rest/user",
                 R"({"user_id": )" + std::to_string(id) + R"(, "active": false})")
                .status == 200);
    const auto resent =
        f.as(root, "POST", "/rest/resend_user_email", R"({"email": "eli@example.com"})");
    CHECK(resent.status == 400);
    CHECK_THAT(resent.body, Catch::Contains("deactivated"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(f.smtp.messages().empty()); // no invitation went out
    CHECK(f.login("eli@example.com", "Vance pass 1998").empty());
    // Activated again by a super user, it logs in as before (and resend says it is active).
    REQUIRE(f.as(root, "PUT", "/rest/user",
                 R"({"user_id": )" + std::to_string(id) + R"(, "active": true})")
                .status == 200);
    CHECK_FALSE(f.login("eli@example.com", "Vance pass 1998").empty());
}

TEST_CASE("Cross-site requests with the session cookie are refused, same-origin pages and curl "
          "go on",
          "[buzz][csrf]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    const std::string origin = f.host->baseUrl(); // the public URL derived from the listener
    const auto post = [&](const Headers& headers, const std::string& email,
                          const std::string& type = "application/json") {
        Headers all = headers;
        all.emplace_back("Cookie", root);
        return f.http->request("POST", "/rest/user",
                               R"({"email": ")" + email + R"(", "role_id": 2, "super_user": true})",
                               all, type);
    };
    // What a page on a sibling subdomain sends with fetch(..., {credentials: "include"}) and
    // a CORS-safelisted type: no preflight, the Lax cookie is sent (same site).
    const auto sibling =
        post({{"Origin", "http://evil.127.0.0.1.nip.io"}, {"Sec-Fetch-Site", "same-site"}},
             "evil1@example.com", "text/plain;charset=application/json");
    CHECK(sibling.status == 403);
    CHECK(sibling.body == R"({"success": false, "errors": ["Cross-site request refused."]})");
    // A form-typed one (also sent without a preflight): the same.
    CHECK(post({{"Origin", "http://evil.127.0.0.1.nip.io"}, {"Sec-Fetch-Site", "same-site"}},
               "evil2@example.com", "application/x-www-form-urlencoded")
              .status == 403);
    // A browser that sends only one of the two headers is held by that one.
    CHECK(post({{"Sec-Fetch-Site", "cross-site"}}, "evil3@example.com").status == 403);
    CHECK(post({{"Origin", "null"}}, "evil4@example.com").status == 403);
    // Login CSRF (logging the victim in as the attacker) is refused too.
    CHECK(f.http
              ->request("POST", "/rest/authenticate",
                        R"({"email": "root@example.com", "password": "x"})",
                        {{"Origin", "https://attacker.example"}, {"Sec-Fetch-Site", "cross-site"}})
              .status == 403);
    // The media type is read exactly: text/plain is not JSON whatever its parameters say.
    const auto plain = post({}, "evil5@example.com", "text/plain;charset=application/json");
    CHECK(plain.status == 415);
    // Nothing was created.
    const auto users = f.as(root, "GET", "/rest/user");
    CHECK(users.body.find("evil") == std::string::npos);

    // The set-password page and other same-origin pages: Origin is the public URL's.
    CHECK(post({{"Origin", origin}, {"Sec-Fetch-Site", "same-origin"}}, "page@example.com",
               "application/json; charset=UTF-8")
              .status == 201);
    // The guides' curl examples: `curl -d '{...}' -b cookies.txt` sends a form type and neither
    // header.
    CHECK(post({}, "curl@example.com", "application/x-www-form-urlencoded").status == 201);
    // Reading is not refused (a GET changes nothing; SameSite keeps cross-site GETs cookieless).
    CHECK(
        f.http
            ->request("GET", "/rest/user", "", {{"Cookie", root}, {"Sec-Fetch-Site", "same-site"}})
            .status == 200);
}

TEST_CASE("Addresses and usernames follow one rule on every driver: 64 characters, no controls",
          "[buzz][validation]") {
    BuzzFixture f;
    const std::string root = f.login(kRootEmail, kRootPassword);
    const std::string local64 = std::string(64 - std::string("@example.com").size(), 'a');
    const auto create = [&](const std::string& email) {
        return f.as(root, "POST", "/rest/user",
                    R"({"email": ")" + email +
                        R"(", "role_id": 2, "password": "Long pass 1998", "active": true})");
    };
    // 64 characters fit; 65 (and 254) are refused in the API's shape, never a 500.
    CHECK(create(local64 + "@example.com").status == 201);
    const auto longer = create("b" + local64 + "@example.com");
    CHECK(longer.status == 400);
    CHECK(longer.body == R"({"success": false, "errors": ["email: is not a valid address"]})");
    CHECK(create(std::string(242, 'c') + "@example.com").status == 400);
    // The v1.1 API: the same length, and no control characters.
    const std::string accountKey = adminAccountKey(*f.http);
    const std::string apiKey = createInstanceWithApiKey(*f.http, accountKey, "rules");
    const auto v11 = [&](const std::string& username) {
        return f.http->post("/v1.1/instances/rules/users/",
                            R"({"username": ")" + username + R"(", "password": "Long pass 1998"})",
                            {{"X-API-KEY", apiKey}});
    };
    CHECK(v11(std::string(64, 'u')).status == 201);
    CHECK(v11(std::string(65, 'u')).status == 400);
    const auto control = v11("tab\\there");
    CHECK(control.status == 400);
    CHECK(control.body == R"({"username": ["may not contain control characters"]})");
    CHECK(v11("bell\\u0007").status == 400);
    // Multi-byte characters count as characters, as the databases count them.
    std::string accents;
    for (int i = 0; i < 64; ++i)
        accents += "\xc3\xa9"; // e-acute: 128 bytes, 64 characters
    CHECK(v11(accents).status == 201);
    CHECK(v11(accents + "e").status == 400);
}
