// The outbox mailer, loaded as the host loads it: one complete .eml per message, a private
// folder, and no way to inject headers or recipients.
#include "support/in_process.hpp"
#include "support/temp_dir.hpp"

#include <latchkey/mailer.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>

using namespace latchkey;
using latchkey::test::LoadedPlugin;
using latchkey::test::TempDir;

namespace {

std::vector<std::string> messagesIn(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        out.push_back(latchkey::test::readFile(entry.path().string()));
        CHECK(entry.path().extension() == ".eml");
    }
    return out;
}

MailMessage invite() {
    MailMessage m;
    m.to = "gordon@example.com";
    m.subject = "Welcome to Black Mesa";
    m.text = "Your login token: 1234";
    return m;
}

} // namespace

TEST_CASE("The outbox writes one .eml per message into a private folder", "[outbox]") {
    TempDir dir;
    const std::string folder = dir.file("mail");
    LoadedPlugin outbox("latchkey-outbox.so", "dir: " + folder + "\nfrom: Test <t@example.com>\n");
    auto& mailer = outbox.as<Mailer>();

    struct stat info {};
    REQUIRE(::stat(folder.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0700);

    mailer.send(invite());
    MailMessage html = invite();
    html.html = "<p>Your token: <b>1234</b></p>";
    html.headers = {{"X-Latchkey-Purpose", "invite"}};
    mailer.send(html);

    const auto messages = messagesIn(folder);
    REQUIRE(messages.size() == 2);
    for (const auto& m : messages) {
        CHECK_THAT(m, Catch::Contains("From: Test <t@example.com>"));
        CHECK_THAT(m, Catch::Contains("To: <gordon@example.com>"));
        CHECK_THAT(m, Catch::Contains("Mime-Version: 1.0") || Catch::Contains("MIME-Version: 1.0"));
        CHECK_THAT(m, Catch::Contains("Subject: "));
        CHECK_THAT(m, Catch::Contains("Your login token: 1234"));
    }
    const bool oneIsAlternative = messages[0].find("multipart/alternative") != std::string::npos ||
                                  messages[1].find("multipart/alternative") != std::string::npos;
    CHECK(oneIsAlternative);
}

TEST_CASE("The outbox refuses header injection and more than one recipient", "[outbox]") {
    TempDir dir;
    LoadedPlugin outbox("latchkey-outbox.so", "dir: " + dir.file("mail") + "\n");
    auto& mailer = outbox.as<Mailer>();
    const auto refused = [&](const MailMessage& m) {
        CHECK_THROWS_AS(mailer.send(m), std::invalid_argument);
    };
    MailMessage m = invite();
    m.to = "a@example.com, b@example.com";
    refused(m);
    m = invite();
    m.to = "a@example.com\r\nBcc: b@example.com";
    refused(m);
    m = invite();
    m.to = "Gordon <g@example.com>";
    refused(m);
    m = invite();
    m.subject = "Hi\r\nBcc: b@example.com";
    refused(m);
    m = invite();
    m.headers = {{"Bcc", "b@example.com"}};
    refused(m);
    m = invite();
    m.headers = {{"X-Evil\r\nBcc", "b@example.com"}};
    refused(m);
    m = invite();
    m.headers = {{"X-Fine", "value\nBcc: b@example.com"}};
    refused(m);
    CHECK(std::filesystem::is_empty(dir.file("mail")));
}
