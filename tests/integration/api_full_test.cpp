// The rest of the Syncano v1.1 user-management API over real HTTP: who may do what, users,
// profiles with a custom schema and files, groups and membership, API key management.
#include "support/host_process.hpp"

#include <Poco/JSON/Array.h>
#include <catch2/catch.hpp>

#include <future>
#include <regex>

using namespace latchkey::test;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// A host with instance "full-app": keys of every kind, and users gordon and alyx.
struct Deployment {
    TempDir dir;
    HostProcess host{dir.write("latchkey.yaml", testConfig(dir))};
    HttpClient http = host.client();
    std::string accountKey = adminAccountKey(http);
    std::string base = "/v1.1/instances/full-app/";
    std::string ignoreAclKey, creatorKey, groupCreatorKey, plainKey;
    int gordon = 0, alyx = 0;
    std::string gordonKey, alyxKey;

    Deployment() {
        REQUIRE(http.post("/v1.1/instances/", R"({"name": "full-app"})", admin()).status == 201);
        ignoreAclKey = newKey(R"({"ignore_acl": true})");
        creatorKey = newKey(R"({"allow_user_create": true})");
        groupCreatorKey = newKey(R"({"allow_group_create": true})");
        plainKey = newKey("{}");
        std::tie(gordon, gordonKey) = newUser("gordon", "Black Mesa 1998");
        std::tie(alyx, alyxKey) = newUser("alyx", "City 17 rebel");
    }

    Headers admin() const { return {{"X-API-KEY", accountKey}}; }
    Headers key(const std::string& k) const { return {{"X-API-KEY", k}}; }
    Headers asUser(const std::string& userKey) const {
        return {{"X-API-KEY", plainKey}, {"X-USER-KEY", userKey}};
    }

    std::string newKey(const std::string& body) {
        const auto r = http.post(base + "api_keys/", body, admin());
        REQUIRE(r.status == 201);
        return r.str("api_key");
    }

    std::pair<int, std::string> newUser(const std::string& name, const std::string& password) {
        const auto r = http.post(
            base + "users/", R"({"username": ")" + name + R"(", "password": ")" + password + "\"}",
            key(creatorKey));
        REQUIRE(r.status == 201);
        return {r.json()->getValue<int>("id"), r.str("user_key")};
    }

    int status(const std::string& method, const std::string& path, const Headers& headers,
               const std::string& body = "{}") const {
        return http.request(method, path, body, headers).status;
    }

    std::string user(int id) const { return base + "users/" + std::to_string(id) + "/"; }

    /// The path of the profile of the user with `userKey`, read through `user/`.
    std::string profileLink(const std::string& userKey) const {
        return http.get(base + "user/", asUser(userKey))
            .json()
            ->getObject("profile")
            ->getObject("links")
            ->getValue<std::string>("self");
    }
};

std::string multipart(const std::string& boundary,
                      const std::vector<std::tuple<std::string, std::string, std::string>>& parts) {
    std::string body;
    for (const auto& [name, filename, content] : parts) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"";
        if (!filename.empty()) body += "; filename=\"" + filename + "\"\r\nContent-Type: image/png";
        body += "\r\n\r\n" + content + "\r\n";
    }
    return body + "--" + boundary + "--\r\n";
}

} // namespace

TEST_CASE("Who may do what: the permission matrix", "[api][permissions]") {
    Deployment d;
    const std::string users = d.base + "users/";
    const std::string groups = d.base + "groups/";
    struct Row {
        std::string who;
        Headers headers;
        int listUsers, readOther, readSelf, updateSelf, deleteUser, createUser, createGroup,
            listGroups;
    };
    const std::vector<Row> matrix{
        // who              headers                 list other self upd  del  newU newG listG
        {"account key", d.admin(), 200, 200, 200, 200, 204, 201, 201, 200},
        {"ignore_acl key", d.key(d.ignoreAclKey), 200, 200, 200, 200, 204, 201, 201, 200},
        {"user (api+user key)", d.asUser(d.gordonKey), 403, 404, 200, 200, 403, 403, 403, 403},
        {"allow_user_create key", d.key(d.creatorKey), 403, 403, 403, 403, 403, 201, 403, 403},
        {"allow_group_create key", d.key(d.groupCreatorKey), 403, 403, 403, 403, 403, 403, 201,
         403},
        {"plain key", d.key(d.plainKey), 403, 403, 403, 403, 403, 403, 403, 403},
    };
    int n = 0;
    for (const auto& row : matrix) {
        INFO(row.who);
        ++n;
        // Each row deletes a fresh user, so rows do not depend on each other.
        const auto victim = d.newUser("victim-" + std::to_string(n), "disposable pw");
        CHECK(d.status("GET", users, row.headers) == row.listUsers);
        CHECK(d.status("GET", d.user(d.alyx), row.headers) == row.readOther);
        CHECK(d.status("GET", d.user(d.gordon), row.headers) == row.readSelf);
        CHECK(d.status("PATCH", d.user(d.gordon), row.headers, R"({"profile": {}})") ==
              row.updateSelf);
        CHECK(d.status("DELETE", d.user(victim.first), row.headers) == row.deleteUser);
        CHECK(d.status("POST", users, row.headers,
                       R"({"username": "new-)" + std::to_string(n) +
                           R"(", "password": "long enough"})") == row.createUser);
        CHECK(d.status("POST", groups, row.headers,
                       R"({"label": "g)" + std::to_string(n) + "\"}") == row.createGroup);
        CHECK(d.status("GET", groups, row.headers) == row.listGroups);
    }
    // Nothing crosses instances: the account's other instance knows none of these keys.
    REQUIRE(d.http.post("/v1.1/instances/", R"({"name": "other-app"})", d.admin()).status == 201);
    CHECK(d.status("GET", "/v1.1/instances/other-app/users/", d.key(d.ignoreAclKey)) == 403);
    CHECK(d.status("GET", "/v1.1/instances/other-app/users/" + std::to_string(d.gordon) + "/",
                   d.admin()) == 404);
}

TEST_CASE("Users: list pages both ways, read, update, delete", "[api][users]") {
    Deployment d;
    for (int i = 0; i < 5; ++i)
        d.newUser("extra-" + std::to_string(i), "long enough pw");
    // 7 users in all. Forward in pages of 3, then back.
    auto page = d.http.get(d.base + "users/?page_size=3", d.admin());
    REQUIRE(page.status == 200);
    std::vector<std::string> names;
    const auto collect = [&names](const HttpResult& r) {
        // Hold the array: a range-for over a temporary's member would dangle.
        const Poco::JSON::Array::Ptr objects = r.json()->getArray("objects");
        for (std::size_t i = 0; i < objects->size(); ++i) {
            names.push_back(
                objects->getObject(static_cast<unsigned>(i))->getValue<std::string>("username"));
        }
    };
    std::string next = page.str("next");
    collect(page);
    CHECK(page.json()->isNull("prev"));
    while (!next.empty()) {
        page = d.http.get(next, d.admin());
        collect(page);
        next = page.json()->isNull("next") ? "" : page.str("next");
    }
    CHECK(names == std::vector<std::string>{"gordon", "alyx", "extra-0", "extra-1", "extra-2",
                                            "extra-3", "extra-4"});
    const std::string prev = page.str("prev");
    const auto back = d.http.get(prev, d.admin());
    REQUIRE(back.json()->getArray("objects")->size() == 3);
    CHECK(back.json()->getArray("objects")->getObject(0)->getValue<std::string>("username") ==
          "extra-1");
    const auto desc = d.http.get(d.base + "users/?ordering=desc&page_size=2", d.admin());
    CHECK(desc.json()->getArray("objects")->getObject(0)->getValue<std::string>("username") ==
          "extra-4");
    CHECK(d.status("GET", d.base + "users/?page_size=101", d.admin()) == 400);
    CHECK(d.status("GET", d.base + "users/?last_pk=-3", d.admin()) == 400);

    // Rename (taken names refused), then delete.
    CHECK(d.http.request("PATCH", d.user(d.alyx), R"({"username": "gordon"})", d.admin()).body ==
          R"({"username": ["User with this username already exists."]})");
    const auto renamed =
        d.http.request("PUT", d.user(d.alyx), R"({"username": "alyx-vance"})", d.admin());
    CHECK(renamed.status == 200);
    CHECK(renamed.str("username") == "alyx-vance");
    CHECK(renamed.str("user_key") == d.alyxKey);
    CHECK(d.status("DELETE", d.user(d.alyx), d.admin()) == 204);
    CHECK(d.status("GET", d.user(d.alyx), d.admin()) == 404);
    CHECK(d.status("DELETE", d.user(d.alyx), d.admin()) == 404);
    CHECK(d.status("GET", d.base + "users/999999/", d.admin()) == 404);
    CHECK(d.status("GET", d.base + "users/-1/", d.admin()) == 404);
}

TEST_CASE("The user key changes with the password and on reset_key - the old one is dead",
          "[api][users]") {
    Deployment d;
    // The user changes its own password through `user/`.
    const auto changed =
        d.http.request("PATCH", d.base + "user/", R"({"password": "a brand new passphrase"})",
                       d.asUser(d.gordonKey));
    REQUIRE(changed.status == 200);
    const std::string second = changed.str("user_key");
    CHECK(second != d.gordonKey);
    CHECK(d.status("GET", d.base + "user/", d.asUser(d.gordonKey)) == 403);
    CHECK(d.status("GET", d.user(d.gordon), d.asUser(d.gordonKey)) == 403);
    CHECK(d.status("GET", d.base + "user/", d.asUser(second)) == 200);
    const auto login = d.http.post(
        d.base + "user/auth/", R"({"username": "gordon", "password": "a brand new passphrase"})",
        d.key(d.plainKey));
    CHECK(login.str("user_key") == second);
    CHECK(d.http
              .post(d.base + "user/auth/",
                    R"({"username": "gordon", "password": "Black Mesa 1998"})", d.key(d.plainKey))
              .status == 401);

    const auto reset = d.http.post(d.user(d.gordon) + "reset_key/", "{}", d.admin());
    REQUIRE(reset.status == 200);
    const std::string third = reset.str("user_key");
    CHECK(third != second);
    CHECK(d.status("GET", d.base + "user/", d.asUser(second)) == 403);
    CHECK(d.status("GET", d.base + "user/", d.asUser(third)) == 200);
    // A user may reset its own key but nobody else's.
    CHECK(d.status("POST", d.user(d.alyx) + "reset_key/", d.asUser(third)) == 404);
    CHECK(d.status("POST", d.user(d.gordon) + "reset_key/", d.key(d.plainKey)) == 403);
}

TEST_CASE("Racing creations of one username give one 201, the rest 400", "[api][users]") {
    Deployment d;
    std::vector<std::future<int>> racers;
    for (int i = 0; i < 8; ++i) {
        racers.push_back(std::async(std::launch::async, [&] {
            return d.http
                .post(d.base + "users/", R"({"username": "contested", "password": "same for all"})",
                      d.key(d.creatorKey))
                .status;
        }));
    }
    int created = 0, refused = 0;
    for (auto& r : racers) {
        const int status = r.get();
        created += status == 201;
        refused += status == 400;
    }
    CHECK(created == 1);
    CHECK(refused == 7);
}

TEST_CASE("The profile schema: fields added by the account key, bad schemas refused",
          "[api][profiles]") {
    Deployment d;
    const std::string cls = d.base + "classes/user_profile/";
    const auto changed = d.http.request(
        "PATCH", cls,
        R"({"schema": [{"name": "nick", "type": "string"}, {"name": "age", "type": "integer"},
                       {"name": "score", "type": "float"}, {"name": "vip", "type": "boolean"},
                       {"name": "born", "type": "datetime"}, {"name": "bio", "type": "text"},
                       {"name": "avatar", "type": "file"}, {"name": "prefs", "type": "object"},
                       {"name": "tags", "type": "array", "filter_index": true}]})",
        d.admin());
    REQUIRE(changed.status == 200);
    CHECK(changed.json()->getArray("schema")->size() == 9);
    CHECK(changed.json()->getValue<int>("revision") == 1);
    CHECK(d.http.get(cls, d.key(d.plainKey)).json()->getArray("schema")->size() == 9);

    // Form-encoded, as in the original guide: the schema as a JSON string.
    const auto form =
        d.http.request("PATCH", cls,
                       "schema=" + std::string("%5B%7B%22name%22%3A%22nick%22%2C%22type"
                                               "%22%3A%22string%22%7D%5D"),
                       d.admin(), "application/x-www-form-urlencoded");
    CHECK(form.status == 200);
    CHECK(form.json()->getArray("schema")->size() == 1);

    const auto bad = [&](const std::string& schema) {
        return d.http.request("PATCH", cls, R"({"schema": )" + schema + "}", d.admin());
    };
    CHECK(bad(R"([{"name": "Bad Name", "type": "string"}])").status == 400);
    CHECK(bad(R"([{"name": "owner", "type": "string"}])").status == 400);
    CHECK(bad(R"([{"name": "x", "type": "geopoint"}])").status == 400);
    CHECK(bad(R"([{"name": "x", "type": "string"}, {"name": "x", "type": "text"}])").status == 400);
    CHECK(
        bad(R"([{"name": "nick", "type": "integer"}])").body ==
        R"({"schema": ["Field 1: the type of \"nick\" cannot change (from string to integer)."]})");
    CHECK(bad(R"("not a list")").body == R"({"schema": ["Expected a list of fields."]})");
    // Only full access changes the schema.
    CHECK(d.http.request("PATCH", cls, R"({"schema": []})", d.asUser(d.gordonKey)).status == 403);
    CHECK(d.status("DELETE", cls, d.admin()) == 403);
    CHECK(d.status("GET", d.base + "classes/other_class/", d.admin()) == 404);
}

TEST_CASE("Profiles: the owner reads and patches typed values - revision grows",
          "[api][profiles]") {
    Deployment d;
    REQUIRE(d.http
                .request("PATCH", d.base + "classes/user_profile/",
                         R"({"schema": [{"name": "nick", "type": "string"},
                                          {"name": "age", "type": "integer"},
                                          {"name": "score", "type": "float"},
                                          {"name": "vip", "type": "boolean"},
                                          {"name": "born", "type": "datetime"},
                                          {"name": "prefs", "type": "object"},
                                          {"name": "tags", "type": "array"}]})",
                         d.admin())
                .status == 200);
    const auto me = d.http.get(d.base + "user/", d.asUser(d.gordonKey));
    const auto profile = me.json()->getObject("profile");
    const std::string self = profile->getObject("links")->getValue<std::string>("self");
    CHECK(profile->isNull("nick"));

    const auto patched = d.http.request("PATCH", self,
                                        R"({"nick": "freeman", "age": 27, "score": 9.5, "vip": true,
            "born": "1971-05-01T08:30:00+02:00", "prefs": {"theme": "dark"}, "tags": ["a", 1],
            "id": 999, "revision": 77, "instanceName": "full-app"})",
                                        d.asUser(d.gordonKey));
    REQUIRE(patched.status == 200);
    const auto p = patched.json();
    CHECK(p->getValue<std::string>("nick") == "freeman");
    CHECK(p->getValue<int>("age") == 27);
    CHECK(p->getValue<double>("score") == 9.5);
    CHECK(p->getValue<bool>("vip"));
    CHECK(p->getObject("born")->getValue<std::string>("type") == "datetime");
    CHECK(p->getObject("born")->getValue<std::string>("value") == "1971-05-01T06:30:00.000000Z");
    CHECK(p->getObject("prefs")->getValue<std::string>("theme") == "dark");
    CHECK(p->getArray("tags")->size() == 2);
    CHECK(p->getValue<int>("revision") == 2);
    CHECK(p->getValue<int>("id") == profile->getValue<int>("id"));
    // Read-only fields (which the official client sends back) are ignored; unknown ones are not.
    CHECK(d.http.request("PATCH", self, R"({"nick": "x", "nikc": "typo"})", d.asUser(d.gordonKey))
              .body == R"({"nikc": ["Unknown field."]})");

    const auto wrong = d.http.request(
        "PATCH", self,
        R"({"age": "old", "vip": "yes", "score": "high", "born": "yesterday", "prefs": [1],
            "nick": ")" +
            std::string(129, 'n') + "\"}",
        d.asUser(d.gordonKey));
    CHECK(wrong.status == 400);
    const auto errors = wrong.json();
    for (const char* field : {"age", "vip", "score", "born", "prefs", "nick"}) {
        INFO(field);
        CHECK(errors->has(field));
    }
    CHECK(d.http.get(self, d.asUser(d.gordonKey)).json()->getValue<int>("revision") == 2);

    // Nulls clear a field; nested `profile` on a user update works too.
    CHECK(d.http.request("PATCH", self, R"({"nick": null})", d.asUser(d.gordonKey))
              .json()
              ->isNull("nick"));
    const auto nested = d.http.request("PATCH", d.base + "user/", R"({"profile": {"nick": "doc"}})",
                                       d.asUser(d.gordonKey));
    CHECK(nested.json()->getObject("profile")->getValue<std::string>("nick") == "doc");

    // Another user cannot see or change it; nobody deletes, creates or re-owns profiles.
    CHECK(d.status("GET", self, d.asUser(d.alyxKey)) == 404);
    CHECK(d.status("PATCH", self, d.asUser(d.alyxKey), R"({"nick": "x"})") == 404);
    CHECK(d.status("DELETE", self, d.admin()) == 403);
    CHECK(d.status("POST", d.base + "classes/user_profile/objects/", d.admin(), "{}") == 403);
    CHECK(d.http.request("PATCH", self, R"({"owner": )" + std::to_string(d.alyx) + "}", d.admin())
              .body == R"({"owner": ["The owner of a profile cannot be changed."]})");
    CHECK(d.status("PATCH", self, d.admin(), R"({"owner": )" + std::to_string(d.gordon) + "}") ==
          200);
}

TEST_CASE("A profile given on user create is checked and stored", "[api][profiles]") {
    Deployment d;
    REQUIRE(d.status("PATCH", d.base + "classes/user_profile/", d.admin(),
                     R"({"schema": [{"name": "nick", "type": "string"}]})") == 200);
    const auto created = d.http.post(
        d.base + "users/",
        R"({"username": "barney", "password": "long enough pw", "profile": {"nick": "calhoun"}})",
        d.key(d.creatorKey));
    REQUIRE(created.status == 201);
    CHECK(created.json()->getObject("profile")->getValue<std::string>("nick") == "calhoun");
    const auto bad =
        d.http.post(d.base + "users/",
                    R"({"username": "otis", "password": "long enough pw", "profile": {"nick": 5}})",
                    d.key(d.creatorKey));
    CHECK(bad.body == R"({"profile": ["nick: Not a valid string."]})");
    CHECK(d.http
              .post(d.base + "users/",
                    R"({"username": "otis", "password": "long enough pw", "profile": "x"})",
                    d.key(d.creatorKey))
              .body == R"({"profile": ["Expected a dictionary of items."]})");
}

TEST_CASE("File fields: multipart upload, a fetchable URL, size limits, replacement",
          "[api][profiles][files]") {
    Deployment d;
    REQUIRE(d.status("PATCH", d.base + "classes/user_profile/", d.admin(),
                     R"({"schema": [{"name": "avatar", "type": "file"},
                                    {"name": "nick", "type": "string"}]})") == 200);
    const std::string self = d.profileLink(d.gordonKey);
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(1000, '\0') + "end";
    auto headers = d.asUser(d.gordonKey);
    const auto uploaded = d.http.request(
        "PATCH", self, multipart("XyZ", {{"avatar", "face.png", png}, {"nick", "", "gman"}}),
        headers, "multipart/form-data; boundary=XyZ");
    REQUIRE(uploaded.status == 200);
    const auto avatar = uploaded.json()->getObject("avatar");
    CHECK(avatar->getValue<std::string>("type") == "file");
    const std::string url = avatar->getValue<std::string>("value");
    CHECK(uploaded.json()->getValue<std::string>("nick") == "gman");
    REQUIRE_THAT(url, Catch::StartsWith(d.host.baseUrl() + "/files/"));
    const std::string path = url.substr(d.host.baseUrl().size());

    // Anyone with the URL fetches it (like the storage URLs of the original API).
    const auto fetched = d.http.get(path);
    CHECK(fetched.status == 200);
    CHECK(fetched.body == png);
    CHECK(fetched.header("Content-Type") == "image/png");
    CHECK(fetched.header("Content-Security-Policy") == "default-src 'none'; sandbox");
    CHECK(d.http.get("/files/0123456789abcdef0123456789abcdef").status == 404);
    CHECK(d.http.get("/files/../etc/passwd").status == 404);

    // A file without a filename (what the syncano client sends for a Buffer) is a file too;
    // it replaces the old one, which is gone.
    const auto replaced =
        d.http.request("PATCH", self, multipart("B1", {{"avatar", "", "plain bytes"}}), headers,
                       "multipart/form-data; boundary=B1");
    REQUIRE(replaced.status == 200);
    CHECK(replaced.json()->getObject("avatar")->getValue<std::string>("value") != url);
    CHECK(d.http.get(path).status == 404);

    // Too large (the test config allows 1 MiB), a JSON string, and broken multipart.
    const auto big = d.http.request(
        "PATCH", self, multipart("B2", {{"avatar", "big.png", std::string(1100000, 'x')}}), headers,
        "multipart/form-data; boundary=B2");
    CHECK(big.status == 413); // over max_body (1 MiB) before it is even parsed
    CHECK(d.http.request("PATCH", self, R"({"avatar": "http://elsewhere/x.png"})", headers).body ==
          R"({"avatar": ["Upload a file (multipart/form-data) to set this field."]})");
    CHECK(
        d.http.request("PATCH", self, "--B3\r\nbroken", headers, "multipart/form-data; boundary=B3")
            .status == 400);
    // Clearing it deletes the file; deleting the user deletes its files.
    const std::string current =
        d.http.get(self, headers).json()->getObject("avatar")->getValue<std::string>("value");
    CHECK(d.http.request("PATCH", self, R"({"avatar": null})", headers).json()->isNull("avatar"));
    CHECK(d.http.get(current.substr(d.host.baseUrl().size())).status == 404);
}

TEST_CASE("Groups: CRUD, membership from both sides, limits and duplicates", "[api][groups]") {
    Deployment d;
    const auto created =
        d.http.post(d.base + "groups/", R"({"label": "scientists", "description": "lab"})",
                    d.key(d.groupCreatorKey));
    REQUIRE(created.status == 201);
    const int group = created.json()->getValue<int>("id");
    const std::string self = d.base + "groups/" + std::to_string(group) + "/";
    CHECK(d.http.post(d.base + "groups/", "{}", d.admin()).body ==
          R"({"label": ["This field is required."]})");

    const auto added =
        d.http.post(self + "users/", "{\"user\": " + std::to_string(d.gordon) + "}", d.admin());
    REQUIRE(added.status == 201);
    CHECK(added.json()->getObject("user")->getValue<int>("id") == d.gordon);
    CHECK(d.http.post(self + "users/", "{\"user\": " + std::to_string(d.gordon) + "}", d.admin())
              .body == R"({"detail": "User is already a part of that group."})");
    CHECK(d.http.post(self + "users/", R"({"user": 999999})", d.admin()).status == 400);
    CHECK(d.http.post(self + "users/", R"({"user": "abc"})", d.admin()).status == 400);

    // The other side.
    const auto viaUser = d.http.post(d.user(d.alyx) + "groups/",
                                     "{\"group\": " + std::to_string(group) + "}", d.admin());
    REQUIRE(viaUser.status == 201);
    CHECK(viaUser.json()->getObject("group")->getValue<std::string>("label") == "scientists");
    const auto members = d.http.get(self + "users/", d.admin());
    REQUIRE(members.json()->getArray("objects")->size() == 2);
    CHECK(
        members.json()->getArray("objects")->getObject(0)->getObject("user")->getValue<std::string>(
            "username") == "gordon");
    // A user sees its own groups, on itself and on its groups list.
    const auto me = d.http.get(d.base + "user/", d.asUser(d.gordonKey));
    CHECK(me.json()->getArray("groups")->getObject(0)->getValue<std::string>("label") ==
          "scientists");
    CHECK(d.http.get(d.user(d.gordon) + "groups/", d.asUser(d.gordonKey))
              .json()
              ->getArray("objects")
              ->getObject(0)
              ->getObject("group")
              ->getValue<int>("id") == group);
    CHECK(d.status("GET", d.user(d.gordon) + "groups/" + std::to_string(group) + "/",
                   d.asUser(d.gordonKey)) == 200);
    CHECK(d.status("GET", self + "users/" + std::to_string(d.gordon) + "/", d.admin()) == 200);

    // At most 32 groups per user.
    for (int i = 0; i < 31; ++i) {
        const int g =
            d.http
                .post(d.base + "groups/", R"({"label": "g)" + std::to_string(i) + "\"}", d.admin())
                .json()
                ->getValue<int>("id");
        REQUIRE(d.http
                    .post(d.user(d.gordon) + "groups/", "{\"group\": " + std::to_string(g) + "}",
                          d.admin())
                    .status == 201);
    }
    const int extra = d.http.post(d.base + "groups/", R"({"label": "one too many"})", d.admin())
                          .json()
                          ->getValue<int>("id");
    CHECK(d.http
              .post(d.user(d.gordon) + "groups/", "{\"group\": " + std::to_string(extra) + "}",
                    d.admin())
              .body == R"({"detail": "A user can be a member of at most 32 groups."})");

    // Update, remove membership, delete.
    CHECK(d.http.request("PATCH", self, R"({"description": "the lab"})", d.admin())
              .str("description") == "the lab");
    CHECK(d.status("DELETE", self + "users/" + std::to_string(d.gordon) + "/", d.admin()) == 204);
    CHECK(d.status("DELETE", self + "users/" + std::to_string(d.gordon) + "/", d.admin()) == 404);
    CHECK(d.status("DELETE", self, d.admin()) == 204);
    CHECK(d.status("GET", self, d.admin()) == 404);
    CHECK(d.http.get(d.base + "user/", d.asUser(d.alyxKey)).json()->getArray("groups")->size() ==
          0);
}

TEST_CASE("API keys: update flags, reset and delete with the account key", "[api][keys]") {
    Deployment d;
    const Poco::JSON::Array::Ptr list =
        d.http.get(d.base + "api_keys/", d.admin()).json()->getArray("objects");
    const int plainId = [&] {
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto key = list->getObject(static_cast<unsigned>(i));
            if (key->getValue<std::string>("api_key") == d.plainKey)
                return key->getValue<int>("id");
        }
        return 0;
    }();
    REQUIRE(plainId > 0);
    const std::string self = d.base + "api_keys/" + std::to_string(plainId) + "/";
    const auto updated = d.http.request(
        "PATCH", self, R"({"allow_user_create": true, "description": "now signup"})", d.admin());
    CHECK(updated.json()->getValue<bool>("allow_user_create"));
    CHECK(updated.str("api_key") == d.plainKey);
    CHECK(d.status("POST", d.base + "users/", d.key(d.plainKey),
                   R"({"username": "via-updated", "password": "long enough"})") == 201);
    CHECK(d.status("PATCH", self, d.key(d.ignoreAclKey), R"({"ignore_acl": true})") == 403);

    const auto reset = d.http.post(self + "reset_key/", "{}", d.admin());
    REQUIRE(reset.status == 200);
    const std::string fresh = reset.str("api_key");
    CHECK(fresh != d.plainKey);
    CHECK(d.status("GET", self, d.key(d.plainKey)) == 403);
    CHECK(d.status("GET", self, d.key(fresh)) == 200);

    CHECK(d.status("DELETE", self, d.admin()) == 204);
    CHECK(d.status("GET", self, d.key(fresh)) == 403);
    CHECK(d.status("DELETE", self, d.admin()) == 404);
}

TEST_CASE("Instances: description and metadata change - names do not", "[api][instances]") {
    Deployment d;
    const auto changed =
        d.http.request("PATCH", "/v1.1/instances/full-app/",
                       R"({"description": "new", "metadata": {"color": "red"}})", d.admin());
    REQUIRE(changed.status == 200);
    CHECK(changed.str("description") == "new");
    CHECK(changed.json()->getObject("metadata")->getValue<std::string>("color") == "red");
    CHECK(d.http.request("PUT", "/v1.1/instances/full-app/", R"({"name": "renamed"})", d.admin())
              .body == R"({"name": ["An instance cannot be renamed."]})");
    CHECK(d.status("PATCH", "/v1.1/instances/full-app/", d.key(d.ignoreAclKey), "{}") == 403);
}

TEST_CASE("files.max_size bounds a profile file below the body limit", "[api][files]") {
    TempDir dir;
    HostProcess host(
        dir.write("latchkey.yaml", testConfig(dir, "", "", "files: {max_size: 1KiB}\n")));
    const HttpClient http = host.client();
    const std::string accountKey = adminAccountKey(http);
    const Headers admin{{"X-API-KEY", accountKey}};
    REQUIRE(http.post("/v1.1/instances/", R"({"name": "small-files"})", admin).status == 201);
    REQUIRE(http.request("PATCH", "/v1.1/instances/small-files/classes/user_profile/",
                         R"({"schema": [{"name": "avatar", "type": "file"}]})", admin)
                .status == 200);
    const auto user = http.post("/v1.1/instances/small-files/users/",
                                R"({"username": "u", "password": "long enough"})", admin);
    const std::string self =
        user.json()->getObject("profile")->getObject("links")->getValue<std::string>("self");
    CHECK(http.request("PATCH", self, multipart("M", {{"avatar", "a.png", std::string(1025, 'x')}}),
                       admin, "multipart/form-data; boundary=M")
              .body == R"({"avatar": ["Ensure this file is at most 1024 bytes."]})");
    CHECK(http.request("PATCH", self, multipart("M", {{"avatar", "a.png", std::string(1024, 'x')}}),
                       admin, "multipart/form-data; boundary=M")
              .status == 200);
}

TEST_CASE("Unknown fields are refused everywhere, read-only ones are ignored", "[api]") {
    Deployment d;
    CHECK(d.http
              .post(d.base + "users/",
                    R"({"username": "u1", "password": "long enough", "passwrd": "x"})",
                    d.key(d.creatorKey))
              .body == R"({"passwrd": ["Unknown field."]})");
    CHECK(d.http
              .post(d.base + "users/",
                    R"({"username": "u1", "password": "long enough", "id": 5, "links": {},
                          "instanceName": "full-app", "user_key": "x", "groups": []})",
                    d.key(d.creatorKey))
              .status == 201);
    CHECK(d.http.post(d.base + "groups/", R"({"label": "l", "colour": "red"})", d.admin()).body ==
          R"({"colour": ["Unknown field."]})");
    CHECK(d.http.post(d.base + "api_keys/", R"({"allow_user_creat": true})", d.admin()).body ==
          R"({"allow_user_creat": ["Unknown field."]})");
    CHECK(d.http.post("/v1.1/instances/", R"({"name": "abcde", "descripton": "x"})", d.admin())
              .body == R"({"descripton": ["Unknown field."]})");
    CHECK(d.http.post("/v1.1/account/auth/", R"({"email": "a@b.c", "password": "x", "totp": 1})")
              .body == R"({"totp": ["Unknown field."]})");
    CHECK(d.http.request("PATCH", d.user(d.gordon), R"({"profile": {"nickname": "x"}})", d.admin())
              .body == R"({"profile": ["nickname: Unknown field."]})");
}

TEST_CASE("A removed field keeps its type, and a removed file field's files are gone",
          "[api][profiles][files]") {
    Deployment d;
    const std::string cls = d.base + "classes/user_profile/";
    REQUIRE(d.status("PATCH", cls, d.admin(),
                     R"({"schema": [{"name": "nick", "type": "string"},
                                    {"name": "avatar", "type": "file"}]})") == 200);
    const auto headers = d.asUser(d.gordonKey);
    const std::string self = d.profileLink(d.gordonKey);
    const auto uploaded = d.http.request(
        "PATCH", self, multipart("Q", {{"avatar", "a.png", "png bytes"}, {"nick", "", "gordo"}}),
        headers, "multipart/form-data; boundary=Q");
    const std::string url = uploaded.json()->getObject("avatar")->getValue<std::string>("value");
    const std::string path = url.substr(d.host.baseUrl().size());
    REQUIRE(d.http.get(path).status == 200);

    // Remove both fields: the schema shows neither, the file is no longer served.
    const auto removed = d.http.request("PATCH", cls, R"({"schema": []})", d.admin());
    CHECK(removed.json()->getArray("schema")->size() == 0);
    CHECK(d.http.get(path).status == 404);
    CHECK_FALSE(d.http.get(self, headers).json()->has("nick"));
    // A removed name cannot come back with another type; with its own type, its values return.
    CHECK(d.status("PATCH", cls, d.admin(), R"({"schema": [{"name": "nick", "type": "file"}]})") ==
          400);
    CHECK(d.status("PATCH", cls, d.admin(),
                   R"({"schema": [{"name": "avatar", "type": "string"}]})") == 400);
    REQUIRE(d.status("PATCH", cls, d.admin(),
                     R"({"schema": [{"name": "nick", "type": "string"}]})") == 200);
    CHECK(d.http.get(self, headers).json()->getValue<std::string>("nick") == "gordo");
}

TEST_CASE("expected_revision guards a profile update", "[api][profiles]") {
    Deployment d;
    REQUIRE(d.status("PATCH", d.base + "classes/user_profile/", d.admin(),
                     R"({"schema": [{"name": "nick", "type": "string"}]})") == 200);
    const auto headers = d.asUser(d.gordonKey);
    const auto profile = d.http.get(d.base + "user/", headers).json()->getObject("profile");
    const std::string self = profile->getObject("links")->getValue<std::string>("self");
    const int revision = profile->getValue<int>("revision");
    CHECK(
        d.http
            .request("PATCH", self,
                     R"({"nick": "a", "expected_revision": )" + std::to_string(revision + 5) + "}",
                     headers)
            .status == 400);
    CHECK(d.http
              .request("PATCH", self,
                       R"({"nick": "a", "expected_revision": )" + std::to_string(revision) + "}",
                       headers)
              .json()
              ->getValue<int>("revision") == revision + 1);
}

TEST_CASE("Uploaded files are never served as something a browser runs", "[api][files]") {
    Deployment d;
    REQUIRE(d.status("PATCH", d.base + "classes/user_profile/", d.admin(),
                     R"({"schema": [{"name": "avatar", "type": "file"}]})") == 200);
    const auto headers = d.asUser(d.gordonKey);
    const std::string self = d.profileLink(d.gordonKey);
    const std::string svg = "--S\r\nContent-Disposition: form-data; name=\"avatar\"; "
                            "filename=\"x\\\"y.svg\"\r\nContent-Type: image/SVG+xml\r\n\r\n"
                            "<svg onload=alert(1)/>\r\n--S--\r\n";
    const auto uploaded =
        d.http.request("PATCH", self, svg, headers, "multipart/form-data; boundary=S");
    REQUIRE(uploaded.status == 200);
    const std::string url = uploaded.json()->getObject("avatar")->getValue<std::string>("value");
    const auto served = d.http.get(url.substr(d.host.baseUrl().size()));
    CHECK(served.header("Content-Type") == "image/svg+xml");
    CHECK_THAT(served.header("Content-Disposition"), Catch::StartsWith("attachment; filename=\""));
    CHECK(served.header("Content-Disposition").find('\\') == std::string::npos);
    CHECK(served.header("Cache-Control") == "no-store");
}

TEST_CASE("Error bodies stay valid JSON whatever bytes the field names hold", "[api]") {
    Deployment d;
    const auto r = d.http.request("POST", d.base + "groups/",
                                  "--N\r\nContent-Disposition: form-data; name=\"\xff\xfe\"\r\n\r\n"
                                  "x\r\n--N--\r\n",
                                  d.admin(), "multipart/form-data; boundary=N");
    CHECK(r.status == 400);
    CHECK_NOTHROW(r.json());
}
