// Mailed login tokens of the login-token flow: issue (single use, hashed), compose, deliver.
#include "token_mail.hpp"

#include "text.hpp"

#include <latchkey/support/time.hpp>

#include <Poco/URI.h>

#include <map>

namespace latchkey::plugins::buzz {

TokenMail::TokenMail(LoginTokens& tokens, Mailer& mailer, Logger& log, const Settings& settings,
                     std::string publicUrl, const Clock& clock, Random& random,
                     BackgroundJobs& jobs)
    : tokens_(tokens), mailer_(mailer), log_(log), settings_(settings),
      publicUrl_(std::move(publicUrl)), clock_(clock), random_(random), jobs_(jobs) {}

IssuedToken TokenMail::issue(Id userId, const char* purpose, std::chrono::milliseconds ttl) {
    IssuedToken issued{randomToken(random_, 24), 0}; // 192 bits
    LoginTokenRecord record;
    record.tokenHash = hashHex(issued.token);
    record.userId = userId;
    record.purpose = purpose;
    record.createdAt = nowMicros(clock_);
    record.expiresAt = issued.expiresAt = record.createdAt + toMicros(ttl);
    tokens_.replaceLoginToken(record); // voids any older token of the user
    return issued;
}

MailMessage TokenMail::compose(const Member& member, const IssuedToken& token,
                               const MailTemplate& kind) const {
    std::string encodedEmail;
    std::string encodedToken;
    Poco::URI::encode(member.user.username, "&=#+%", encodedEmail);
    Poco::URI::encode(token.token, "&=#+%", encodedToken);
    const std::string link = publicUrl_ + settings_.mount + "/set-password#email=" + encodedEmail +
                             "&token=" + encodedToken;
    const std::map<std::string, std::string> values{{"link", link},
                                                    {"token", token.token},
                                                    {"email", member.user.username},
                                                    {"first_name", member.attributes.firstName},
                                                    {"last_name", member.attributes.lastName},
                                                    {"expires", formatSeconds(token.expiresAt)}};
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

void TokenMail::invite(const Member& member) {
    const IssuedToken token = issue(member.user.id, "invite", settings_.inviteTtl);
    const MailMessage message = compose(member, token, settings_.invite);
    const Id userId = member.user.id;
    if (!jobs_.post([this, message, userId] { deliver(message, userId); })) {
        count(dropped_);
        log_.error("mail queue full: mail to user " + std::to_string(userId) +
                   " dropped (resend it)");
    }
}

void TokenMail::sendReset(const Member& member) {
    const IssuedToken token = issue(member.user.id, "reset", settings_.resetTtl);
    deliver(compose(member, token, settings_.reset), member.user.id);
}

std::optional<std::string> TokenMail::consume(Id userId, const std::string& token, Micros now) {
    if (token.size() > 128) return std::nullopt;
    return tokens_.consumeLoginToken(userId, hashHex(token), now);
}

void TokenMail::revoke(Id userId) {
    tokens_.revokeLoginTokens(userId);
}

void TokenMail::notify(Id userId, const std::string& to, const std::string& subject,
                       const std::string& text) {
    MailMessage message;
    message.from = settings_.mailFrom;
    message.to = to;
    message.subject = subject;
    message.text = text;
    if (!jobs_.post([this, message, userId] { deliver(message, userId); })) {
        count(dropped_);
        log_.error("mail queue full: notice to user " + std::to_string(userId) + " dropped");
    }
}

void TokenMail::deliver(const MailMessage& message, Id userId) {
    try {
        mailer_.send(message);
        count(sent_);
    } catch (const std::exception& e) {
        count(failed_);
        // The user stays; an administrator can resend the mail.
        log_.error("mail to user " + std::to_string(userId) + " failed: " + e.what());
    }
}

void TokenMail::countInto(Metrics& metrics) {
    const auto counter = [&metrics](const char* outcome) {
        return &metrics.counter("latchkey_mail_total",
                                "Mails of the login-token flow (invitations, resets, notices) by "
                                "outcome: sent, failed (the mailer refused), dropped (queue full).",
                                {{"outcome", outcome}});
    };
    sent_ = counter("sent");
    failed_ = counter("failed");
    dropped_ = counter("dropped");
}

} // namespace latchkey::plugins::buzz
