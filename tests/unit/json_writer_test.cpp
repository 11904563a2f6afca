// The response JSON writer.
#include <latchkey/support/json_writer.hpp>

#include <catch2/catch.hpp>

using latchkey::JsonWriter;

TEST_CASE("The writer nests, separates and escapes", "[json]") {
    JsonWriter out;
    out.beginObject()
        .field("s", "quote \" and \\ and \n")
        .field("n", std::int64_t{-5})
        .field("b", false)
        .field("o", std::optional<std::int64_t>{})
        .key("a")
        .beginArray()
        .value(1)
        .raw("{\"x\": 1}")
        .null()
        .endArray()
        .key("e")
        .beginObject()
        .endObject()
        .endObject();
    CHECK(out.text() == R"({"s": "quote \" and \\ and \n", "n": -5, "b": false, "o": null, )"
                        R"("a": [1, {"x": 1}, null], "e": {}})");
    JsonWriter control;
    control.value(std::string_view("\x01", 1));
    CHECK(control.text() == "\"\\u0001\"");
}

TEST_CASE("Quoting keeps valid UTF-8 and replaces broken bytes", "[json]") {
    CHECK(latchkey::jsonQuote("\xc5\xbc\xf0\x9f\x94\x91") == "\"\xc5\xbc\xf0\x9f\x94\x91\"");
    CHECK(latchkey::jsonQuote("a\xff"
                              "b") == "\"a\\ufffdb\"");
    CHECK(latchkey::jsonQuote("\xe2\x82") == "\"\\ufffd\\ufffd\"");
    CHECK(latchkey::jsonQuote("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");
}
