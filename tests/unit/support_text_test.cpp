// The SDK's shared text and time rules (support/text.hpp, support/time.hpp).
#include <latchkey/support/text.hpp>
#include <latchkey/support/time.hpp>

#include <catch2/catch.hpp>

#include <clocale>

using namespace latchkey;

TEST_CASE("ASCII case folding folds A-Z only, whatever the locale", "[text]") {
    CHECK(asciiLower("Gordon@Example.COM") == "gordon@example.com");
    // UTF-8 bytes pass untouched: "ÄÖ" stays as it is.
    CHECK(asciiLower("\xC3\x84\xC3\x96x") == "\xC3\x84\xC3\x96x");
    CHECK(asciiLower("").empty());
    // A locale whose tolower maps more than A-Z changes nothing here.
    const char* before = std::setlocale(LC_CTYPE, nullptr);
    const std::string saved = before ? before : "C";
    if (std::setlocale(LC_CTYPE, "C.UTF-8")) {
        CHECK(asciiLower("\xC9T\xC9") == "\xC9t\xC9");
    }
    std::setlocale(LC_CTYPE, saved.c_str());
}

TEST_CASE("Control characters are C0 and DEL, not spaces or UTF-8", "[text]") {
    CHECK(hasControlCharacters("a\r\nb"));
    CHECK(hasControlCharacters(std::string_view("a\0b", 3)));
    CHECK(hasControlCharacters("tab\there"));
    CHECK(hasControlCharacters("del\x7f"));
    CHECK_FALSE(hasControlCharacters("plain text, with spaces"));
    CHECK_FALSE(hasControlCharacters("\xC3\xA9t\xC3\xA9"));
}

TEST_CASE("The store's time unit is microseconds since the epoch", "[text]") {
    using namespace std::chrono;
    const system_clock::time_point at{seconds(1'700'000'000) + microseconds(123'456)};
    CHECK(toMicros(at) == 1'700'000'000'123'456);
    struct Fixed final : Clock {
        system_clock::time_point at;
        system_clock::time_point now() const override { return at; }
    } clock;
    clock.at = at;
    CHECK(nowMicros(clock) == 1'700'000'000'123'456);
    CHECK(toMicros(milliseconds(1500)) == 1'500'000);
}

TEST_CASE("Both APIs' timestamp formats: v1.1 with microseconds, Buzz to the second", "[text]") {
    CHECK(formatTimestamp(1'429'625'981'309'520) == "2015-04-21T14:19:41.309520Z");
    CHECK(formatSeconds(1'429'625'981'309'520) == "2015-04-21T14:19:41Z");
    // Before 1970 the fraction still counts up from the second before.
    CHECK(formatTimestamp(-1) == "1969-12-31T23:59:59.999999Z");
}
