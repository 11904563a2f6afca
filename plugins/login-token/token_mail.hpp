// Mailed login tokens of the login-token flow: issue (single use, hashed), compose, deliver.
#pragma once

#include "background_jobs.hpp"
#include "members.hpp"
#include "settings.hpp"

#include <latchkey/clock.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/random.hpp>
#include <latchkey/storage/login_tokens.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace latchkey::plugins::buzz {

/// A token just issued: shown once, in the mail; the store keeps its hash.
struct IssuedToken {
    std::string token;
    Micros expiresAt = 0;
};

/// Login tokens (192 bits, one per user: a new one voids the old) and the mails that carry
/// them. Thread-safe.
class TokenMail {
public:
    /// Everything given must outlive this object.
    TokenMail(LoginTokens& tokens, Mailer& mailer, Logger& log, const Settings& settings,
              std::string publicUrl, const Clock& clock, Random& random, BackgroundJobs& jobs);

    /// Issues a token for `purpose` ("invite" or "reset") valid for `ttl`, voiding older ones.
    IssuedToken issue(Id userId, const char* purpose, std::chrono::milliseconds ttl);
    /// The mail of `kind` that carries `token` to `member`: a link with the token in the
    /// fragment (never sent to a server or in a Referer); HTML values escaped.
    MailMessage compose(const Member& member, const IssuedToken& token,
                        const MailTemplate& kind) const;
    /// Issues an invitation and queues its mail (a full queue is logged: resend it).
    void invite(const Member& member);
    /// Issues a reset token and sends its mail now (the caller is off the request path).
    void sendReset(const Member& member);
    /// The purpose of user `userId`'s token `token` if it is valid at `now`; it is used up.
    std::optional<std::string> consume(Id userId, const std::string& token, Micros now);
    /// Voids every token of the user.
    void revoke(Id userId);
    /// Queues a notice to `to` about user `userId`'s account (its password or its address
    /// changed): no link, no token, nothing that acts on the account. A full queue is logged.
    void notify(Id userId, const std::string& to, const std::string& subject,
                const std::string& text);
    /// From now on, counts every mail into `metrics` (latchkey_mail_total by outcome: sent,
    /// failed, dropped because the queue was full). Call once, at creation.
    void countInto(Metrics& metrics);

private:
    void deliver(const MailMessage& message, Id userId);
    /// Counts one mail; a no-op before countInto().
    static void count(MetricCounter* counter) {
        if (counter) counter->add();
    }

    LoginTokens& tokens_;
    Mailer& mailer_;
    Logger& log_;
    const Settings& settings_;
    std::string publicUrl_;
    const Clock& clock_;
    Random& random_;
    BackgroundJobs& jobs_;
    MetricCounter* sent_ = nullptr;
    MetricCounter* failed_ = nullptr;
    MetricCounter* dropped_ = nullptr;
};

} // namespace latchkey::plugins::buzz
