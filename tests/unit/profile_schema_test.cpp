// Profile schemas: which schemas are accepted, and how each field type checks its values.
#include "core/profile_schema.hpp"

#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

using namespace latchkey;
using namespace latchkey::core;

namespace {

Poco::Dynamic::Var json(const std::string& text) {
    Poco::JSON::Parser parser;
    return parser.parse("[" + text + "]").extract<Poco::JSON::Array::Ptr>()->get(0);
}

std::optional<std::string> check(const std::string& type, const Poco::Dynamic::Var& value,
                                 bool fromForm = false) {
    FieldErrors errors;
    return checkFieldValue(FieldSpec{"f", type, nullptr}, value, fromForm, errors);
}

} // namespace

TEST_CASE("A stored schema round-trips with its extra flags", "[schema]") {
    const auto schema = ProfileSchema::fromStored(
        R"([{"name": "nick", "type": "string", "filter_index": true}, {"name": "age", "type": "integer"}])");
    REQUIRE(schema.fields().size() == 2);
    CHECK(schema.find("age")->type == "integer");
    CHECK(schema.toJson() == R"([{"name": "nick", "type": "string", "filter_index": true}, )"
                             R"({"name": "age", "type": "integer"}])");
    CHECK(ProfileSchema::fromStored("garbage").fields().empty());
}

TEST_CASE("New schemas are checked field by field", "[schema]") {
    const ProfileSchema current =
        ProfileSchema::fromStored(R"([{"name": "nick", "type": "string"}])");
    FieldErrors errors;
    CHECK(ProfileSchema::fromRequest(json(R"([{"name": "nick", "type": "string"},
                                              {"name": "born", "type": "datetime"}])"),
                                     current, errors));
    CHECK(errors.empty());
    // A form sends the list as text.
    CHECK(ProfileSchema::fromRequest(
        Poco::Dynamic::Var(std::string(R"([{"name": "a", "type": "text"}])")), current, errors));
    for (const char* bad :
         {R"([{"name": "_hidden", "type": "string"}])", R"([{"name": "id", "type": "string"}])",
          R"([{"name": "9lives", "type": "string"}])", R"([{"name": "x", "type": "reference"}])",
          R"([{"name": "x"}])", R"([{"name": "nick", "type": "text"}])",
          R"([{"name": "x", "type": "string", "unique": "yes"}])", R"({"a": 1})"}) {
        INFO(bad);
        FieldErrors e;
        CHECK_FALSE(ProfileSchema::fromRequest(json(bad), current, e));
        CHECK_FALSE(e.empty());
    }
    std::string many = "[";
    for (int i = 0; i < 65; ++i)
        many += (i ? "," : "") + std::string(R"({"name": "f)") + std::to_string(i) +
                R"(", "type": "string"})";
    FieldErrors tooMany;
    CHECK_FALSE(ProfileSchema::fromRequest(json(many + "]"), current, tooMany));
}

TEST_CASE("Values are checked against their field's type", "[schema]") {
    CHECK(check("string", json(R"("hi")")) == R"("hi")");
    CHECK_FALSE(check("string", json("5")));
    CHECK_FALSE(check("string", Poco::Dynamic::Var(std::string(129, 'x'))));
    CHECK(check("text", Poco::Dynamic::Var(std::string(5000, 'x'))));
    CHECK(check("integer", json("42")) == "42");
    CHECK_FALSE(check("integer", json("4.5")));
    CHECK_FALSE(check("integer", json(R"("42")")));
    CHECK(check("integer", json(R"("42")"), true) == "42");
    CHECK_FALSE(check("integer", json(R"("42x")"), true));
    CHECK(check("float", json("4.5")) == "4.5");
    CHECK_FALSE(check("float", json("true")));
    CHECK(check("boolean", json("false")) == "false");
    CHECK_FALSE(check("boolean", json("0")));
    CHECK(check("boolean", json(R"("1")"), true) == "true");
    CHECK(check("datetime", json(R"("2015-04-21T14:19:41.309520Z")")) ==
          R"("2015-04-21T14:19:41.309520Z")");
    CHECK(check("datetime", json(R"("2015-04-21T16:19:41+02:00")")) ==
          R"("2015-04-21T14:19:41.000000Z")");
    CHECK_FALSE(check("datetime", json(R"("21/04/2015")")));
    CHECK(check("datetime", json(R"("2015-04-21T14:19:41")")) ==
          R"("2015-04-21T14:19:41.000000Z")");
    CHECK(check("datetime", json(R"("2015-04-21T14:19Z")")) == R"("2015-04-21T14:19:00.000000Z")");
    CHECK_FALSE(check("datetime", json(R"("2015-04-21T14:19:00+99:99")")));
    CHECK_FALSE(check("datetime", json(R"("9999-12-31T23:59:59-23:59")")));
    CHECK(check("object", json(R"({"a": [1]})")) == R"({"a":[1]})");
    CHECK_FALSE(check("object", json("[1]")));
    CHECK(check("array", json(R"(["a", 1])")) == R"(["a",1])");
    CHECK(check("array", json(R"("[1, 2]")"), true) == "[1,2]");
    CHECK(check("string", Poco::Dynamic::Var()) == "null");
    CHECK_FALSE(check("file", json(R"("http://x/y.png")")));
}

TEST_CASE("Stored values render with their type - dropped fields disappear", "[schema]") {
    const auto schema = ProfileSchema::fromStored(
        R"([{"name": "avatar", "type": "file"}, {"name": "born", "type": "datetime"},
            {"name": "age", "type": "integer"}, {"name": "nick", "type": "string"}])");
    JsonWriter out;
    out.beginObject();
    writeProfileFields(
        out,
        renderedProfileFields(
            R"({"avatar": "0123456789abcdef0123456789abcdef", "born": "1971-05-01T06:30:00.000000Z", "age": 7, "gone": 1})",
            schema, "https://auth.example.com"));
    out.endObject();
    CHECK(
        out.text() ==
        R"({"avatar": {"type": "file", "value": "https://auth.example.com/files/0123456789abcdef0123456789abcdef"}, )"
        R"("born": {"type": "datetime", "value": "1971-05-01T06:30:00.000000Z"}, "age": 7, "nick": null})");
}
