// Request bodies: JSON and forms, type checks with v1.1 messages, UTF-8, nesting limits.
#include "core/request_input.hpp"

#include <catch2/catch.hpp>

using namespace latchkey;
using namespace latchkey::core;

namespace {

Request jsonRequest(std::string body, std::string type = "application/json") {
    Request r;
    r.method = "POST";
    r.body = std::move(body);
    r.headers.emplace_back("Content-Type", std::move(type));
    return r;
}

int statusOf(const Request& r) {
    try {
        RequestInput::parse(r);
    } catch (const HttpError& e) {
        return e.status();
    }
    return 0;
}

} // namespace

TEST_CASE("Text fields: required, blank, null, wrong type, length, numbers as text", "[input]") {
    const auto in = RequestInput::parse(jsonRequest(
        R"({"name": "gordon", "blank": "", "nothing": null, "list": [1], "num": 42,
            "flag": true, "long": "abcdef", "unicode": "żółw"})"));
    FieldErrors errors;
    CHECK(in.text("name", errors, {.required = true}) == "gordon");
    CHECK_FALSE(in.text("missing", errors, {.required = true}));
    CHECK_FALSE(in.text("blank", errors));
    CHECK(in.text("blank", errors, {.allowBlank = true}) == "");
    CHECK_FALSE(in.text("nothing", errors));
    CHECK_FALSE(in.text("list", errors));
    CHECK(in.text("num", errors) == "42");
    CHECK_FALSE(in.text("flag", errors));
    CHECK_FALSE(in.text("long", errors, {.maxLength = 5}));
    CHECK(in.text("unicode", errors, {.maxLength = 4}) == "żółw");
    REQUIRE(errors.size() == 6);
    CHECK(errors[0] == FieldErrors::value_type{"missing", {"This field is required."}});
    CHECK(errors[1].second[0] == "This field may not be blank.");
    CHECK(errors[2].second[0] == "This field may not be null.");
    CHECK(errors[3].second[0] == "Not a valid string.");
    CHECK(errors[4].first == "flag");
    CHECK(errors[5].second[0] == "Ensure this field has no more than 5 characters.");
}

TEST_CASE("Boolean fields accept JSON booleans, 0/1 and their text", "[input]") {
    const auto in = RequestInput::parse(
        jsonRequest(R"({"a": true, "b": 0, "c": "true", "d": "False", "e": "maybe", "f": 2})"));
    FieldErrors errors;
    CHECK(in.flag("a", errors) == true);
    CHECK(in.flag("b", errors) == false);
    CHECK(in.flag("c", errors) == true);
    CHECK(in.flag("d", errors) == false);
    CHECK_FALSE(in.flag("e", errors));
    CHECK_FALSE(in.flag("f", errors));
    CHECK_FALSE(in.flag("absent", errors));
    CHECK(errors.size() == 2);
}

TEST_CASE("Malformed, non-object, non-UTF-8 and too deep bodies are 400", "[input]") {
    CHECK(statusOf(jsonRequest("{\"a\": ")) == 400);
    CHECK(statusOf(jsonRequest("[1, 2]")) == 400);
    CHECK(statusOf(jsonRequest("\"text\"")) == 400);
    CHECK(statusOf(jsonRequest("{\"a\": \"\xff\xfe\"}")) == 400);
    CHECK(statusOf(jsonRequest(std::string(100000, '['))) == 400);
    std::string deepObject;
    for (int i = 0; i < 40; ++i)
        deepObject += "{\"a\": ";
    deepObject += "1" + std::string(40, '}');
    CHECK(statusOf(jsonRequest(deepObject)) == 400);
    CHECK(statusOf(jsonRequest("")) == 0);
    CHECK(statusOf(jsonRequest("   \n")) == 0);
}

TEST_CASE("Form bodies are read as text fields - a form-typed JSON object is JSON", "[input]") {
    const auto form =
        RequestInput::parse(jsonRequest("username=gordon&password=Black%20Mesa&ignore_acl=true",
                                        "application/x-www-form-urlencoded"));
    FieldErrors errors;
    CHECK(form.text("password", errors) == "Black Mesa");
    CHECK(form.flag("ignore_acl", errors) == true);
    const auto curlish = RequestInput::parse(
        jsonRequest("{\"username\": \"x\"}", "application/x-www-form-urlencoded"));
    CHECK(curlish.text("username", errors) == "x");
    CHECK(errors.empty());
}

TEST_CASE("Bodies of other media types are 415, as Syncano's parsers answer", "[input]") {
    const auto detailOf = [](const Request& r) -> std::string {
        try {
            RequestInput::parse(r);
        } catch (const HttpError& e) {
            return std::to_string(e.status()) + " " + e.what();
        }
        return "read";
    };
    const std::string object = R"({"username": "x"})";
    CHECK(detailOf(jsonRequest(object, "text/plain")) ==
          R"(415 Unsupported media type "text/plain" in request.)");
    // The type's essence, exactly: a parameter does not make text/plain JSON.
    CHECK(detailOf(jsonRequest(object, "text/plain; charset=application/json")) ==
          R"(415 Unsupported media type "text/plain" in request.)");
    CHECK(detailOf(jsonRequest(object, "application/jsonp")).starts_with("415 "));
    CHECK(detailOf(jsonRequest(object, "application/xml")).starts_with("415 "));
    CHECK(detailOf(jsonRequest(object, "text/x-www-form-urlencoded")).starts_with("415 "));
    // A type that is not a plain token is not echoed.
    CHECK(detailOf(jsonRequest(object, "te\x01xt/<b>")) ==
          "415 Unsupported media type in request.");
    // JSON (any case, with parameters), a form, no type at all, and an empty body of any type.
    CHECK(detailOf(jsonRequest(object, "Application/JSON; charset=utf-8")) == "read");
    CHECK(detailOf(jsonRequest(object, "application/x-www-form-urlencoded")) == "read");
    Request untyped = jsonRequest(object);
    untyped.headers.clear();
    CHECK(detailOf(untyped) == "read");
    CHECK(detailOf(jsonRequest("", "text/plain")) == "read");
    // A form's essence is exact too: "...-urlencoded-not" is not a form, so not read as one.
    CHECK(detailOf(jsonRequest("a=1", "application/x-www-form-urlencoded-not")).starts_with("415"));
}

TEST_CASE("UTF-8 validation rejects overlong forms, surrogates and truncation", "[input]") {
    CHECK(isValidUtf8("plain ascii"));
    CHECK(isValidUtf8("\xc5\xbc\xc3\xb3\xc5\x82w"));
    CHECK(isValidUtf8("\xf0\x9f\x94\x91"));
    CHECK_FALSE(isValidUtf8("\xc0\xaf"));
    CHECK_FALSE(isValidUtf8("\xed\xa0\x80"));
    CHECK_FALSE(isValidUtf8("\xe2\x82"));
    CHECK_FALSE(isValidUtf8("\xf4\x90\x80\x80"));
    CHECK(utf8Length("\xc5\xbc\xc3\xb3\xc5\x82w") == 4);
}

TEST_CASE("Numbers out of range are field errors, not exceptions", "[input]") {
    const auto in = RequestInput::parse(jsonRequest(R"({"flag": 18446744073709551615})"));
    FieldErrors errors;
    CHECK_FALSE(in.flag("flag", errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].second[0] == "Must be a valid boolean.");
}

TEST_CASE("A multipart body of parts without usable names ends in 400, not in a loop", "[input]") {
    // A libFuzzer finding (tests/fuzz/corpus/request_input/unnamed-parts-loop): Poco's reader
    // kept finding parts in this body, none of them kept, and only kept parts were counted, so
    // the worker never came back.
    const std::string body(
        "\x2d\x2d\x58\x79\x5a\x00\xaf\x43\x6f\x6e\x74\x65\x6e\x74\x2d\x44\x69\x73"
        "\x70\x6f\x73\x69\x74\x69\x6f\x6e\x3a\x20\x66\x6f\x72\x6d\x2d\x64\x61\x74"
        "\x61\x3b\x20\x6e\x61\x6d\x65\x3d\x22\x21\x73\x65\x72\x6e\x61\x6d\x65\x22"
        "\x0d\x0a\x0d\x0a\x67\x6f\x72\x64\x6f\x6e\x0d\x0a\x2d\x2d\x58\x79\x5a\x0d"
        "\x0a\x43\x6f\x6e\x74\x65\x6e\x74\x2d\x44\x69\x73\x70\x6f\x73\x69\x74\x69"
        "\x6f\x6e\x3a\x20\x66\x6f\x72\x6d\x2d\x64\x61\x74\x61\x3b\x20\x6e\x61\x6d"
        "\x65\x3d\x22\x61\x76\x61\x74\x61\x6c\x65\x6e\x61\x6d\x65\x3d\x22\x61\x2e"
        "\x70\x6e\x67\x22\x0d\x0a\x43\x6f\x6e\x74\x65\x74\x6e\x2d\x54\x79\x70\x65"
        "\x3a\x20\x69\x6d\x61\x67\x65\x2f\x70\x6d\x2d\x64\x61\x74\x61\x3b\x20\x6e"
        "\x61\x6d\x65\x3d\x01\x00\x00\x00\x7f\xff\xff\xff",
        174);
    Request r = jsonRequest(body, "multipart/form-data; boundary=XyZ");
    try {
        (void)RequestInput::parse(r);
    } catch (const HttpError& e) {
        CHECK(e.status() == 400);
    }
    // And a hundred and one unnamed parts are too many, as named ones are.
    std::string many;
    for (int i = 0; i < 101; ++i)
        many += "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n";
    many += "--XyZ--\r\n";
    r = jsonRequest(many, "multipart/form-data; boundary=XyZ");
    CHECK_THROWS_AS(RequestInput::parse(r), HttpError);
}
