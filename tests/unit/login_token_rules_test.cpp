// The login-token flow's pure parts: the permission rules over roles, the Buzz envelope, and
// its text rules (addresses, templates).
#include "cross_site.hpp"
#include "envelope.hpp"
#include "roles.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>

using namespace latchkey;
using namespace latchkey::plugins::buzz;

namespace {

Role role(std::int64_t id, std::map<std::string, std::int64_t> permissions, bool active = true) {
    Role r;
    r.id = id;
    r.name = "role " + std::to_string(id);
    r.permissions = std::move(permissions);
    r.active = active;
    return r;
}

} // namespace

TEST_CASE("Permissions: a super user may do anything, others what an active role grants",
          "[login-token]") {
    const Standing super{true, std::nullopt};
    const Standing editor{false, role(1, {{"user", kRead | kUpdate}})};
    const Standing retired{false, role(2, {{"user", 15}}, false)};
    const Standing nobody{false, std::nullopt};
    CHECK(allows(super, "user", kDelete));
    CHECK(allows(editor, "user", kUpdate));
    CHECK_FALSE(allows(editor, "user", kDelete));
    CHECK_FALSE(allows(editor, "role", kRead));
    CHECK_FALSE(allows(retired, "user", kRead)); // an inactive role grants nothing
    CHECK_FALSE(allows(nobody, "user", kRead));
}

TEST_CASE("Permissions: nobody takes over a super user or a stronger role", "[login-token]") {
    const Standing super{true, std::nullopt};
    const Standing manager{false, role(1, {{"user", 15}})};
    const Standing reader{false, role(2, {{"user", kRead}})};
    const Standing writer{false, role(3, {{"user", kRead | kCreate}, {"notes", kRead}})};
    CHECK_FALSE(refusesChange(super, manager));
    CHECK(refusesChange(manager, super) == "Only a super user may change a super user.");
    CHECK_FALSE(refusesChange(manager, reader));
    CHECK(refusesChange(reader, manager).has_value());
    CHECK(refusesChange(manager, writer).has_value()); // "notes" is beyond the manager's role
    // A user without a role, or with an inactive one, can be changed by anyone allowed to.
    CHECK_FALSE(refusesChange(reader, Standing{false, std::nullopt}));
    CHECK_FALSE(refusesChange(reader, Standing{false, role(4, {{"user", 15}}, false)}));
    // Handing out roles: only what one's own (active) role has.
    CHECK_FALSE(refusesAssigning(manager, *reader.role));
    CHECK(refusesAssigning(reader, *manager.role).has_value());
    CHECK_FALSE(refusesAssigning(super, *writer.role));
    CHECK(refusesAssigning(Standing{false, role(5, {{"user", 15}}, false)}, *reader.role));
    CHECK(covers(manager.role, role(9, {})));
}

TEST_CASE("Roles round-trip through their stored form, and bad bits grant nothing",
          "[login-token]") {
    Role r = role(7, {{"user", 5}, {"role", 1}});
    r.parent = 3;
    const Role back = Roles::parse(7, Roles::serialize(r));
    CHECK(back.id == 7);
    CHECK(back.name == r.name);
    CHECK(back.parent == 3);
    CHECK(back.permissions == r.permissions);
    CHECK(back.active);
    const Role odd = Roles::parse(8, R"({"role_name": "x", "permissions": {"a": 99, "b": 4}})");
    CHECK(odd.permissions == std::map<std::string, std::int64_t>{{"b", 4}});
}

TEST_CASE("The Buzz envelope: success with payload, errors as a list", "[login-token]") {
    CHECK(idEnvelope(201, "made", 5).body ==
          R"({"success": true, "message": "made", "payload": {"id": 5}})");
    CHECK(envelope(200, "ok").body == R"({"success": true, "message": "ok"})");
    const Response invalid = renderError(HttpError::invalid({{"email", {"is required"}}}));
    CHECK(invalid.status == 400);
    CHECK(invalid.body == R"({"success": false, "errors": ["email: is required"]})");
    const Response limited = renderError(HttpError(429, "Too many.", {}, {{"Retry-After", "30"}}));
    CHECK(limited.body == R"({"success": false, "errors": ["Too many."]})");
    REQUIRE(limited.headers.size() == 1);
    CHECK(limited.headers[0].second == "30");
}

TEST_CASE("Addresses, templates and names follow the flow's text rules", "[login-token]") {
    CHECK(isEmail("a@b"));
    CHECK_FALSE(isEmail("a b@c"));
    CHECK_FALSE(isEmail("@b"));
    CHECK_FALSE(isEmail("a@b@c"));
    CHECK_FALSE(isEmail("a@b\n"));
    CHECK_FALSE(isEmail(std::string(250, 'a') + "@b.cd"));
    // A value is never expanded again; unknown names stay.
    CHECK(fill("Hi {{first_name}}, {{link}} {{other}}",
               {{"first_name", "{{link}}"}, {"link", "L"}}) == "Hi {{link}}, L {{other}}");
    CHECK(htmlEscape(R"(<a href="x">&'</a>)") ==
          "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    CHECK(hasControl("a\tb", false));
    CHECK_FALSE(hasControl("a\tb\n", true));
    CHECK(hashHex("x").size() == 64);
}

TEST_CASE("Origins and media types are read exactly", "[login-token][csrf]") {
    using latchkey::plugins::buzz::mediaTypeEssence;
    using latchkey::plugins::buzz::originOf;
    CHECK(originOf("https://Auth.Example.com/") == "https://auth.example.com");
    CHECK(originOf("https://auth.example.com:443") == "https://auth.example.com");
    CHECK(originOf("http://127.0.0.1:8080/rest") == "http://127.0.0.1:8080");
    CHECK(originOf("http://[::1]:80") == "http://[::1]");
    CHECK(originOf("http://[::1]") == "http://[::1]");
    CHECK(originOf("null").empty());
    CHECK(originOf("http://user@evil.example").empty());
    CHECK(mediaTypeEssence("Application/JSON; charset=utf-8") == "application/json");
    CHECK(mediaTypeEssence("text/plain;charset=application/json") == "text/plain");
    CHECK(mediaTypeEssence(" application/json ") == "application/json");
}
