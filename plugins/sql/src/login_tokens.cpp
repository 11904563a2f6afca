// The LoginTokens facet: single-use login tokens, stored as hashes.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

void SqlStore::replaceLoginToken(const LoginTokenRecord& token) {
    write("token", [&](Session& session) {
        // A new token voids the older ones: there is only ever one live token per user. The
        // user's row is locked first, so two concurrent replacements take turns instead of
        // both deleting nothing new and both inserting.
        exists(session, *dialect_, "SELECT id FROM users WHERE id = ?" + dialect_->lockRows(),
               token.userId);
        execute(session, *dialect_, "DELETE FROM login_tokens WHERE user_id = ?", token.userId);
        execute(session, *dialect_,
                "INSERT INTO login_tokens (token_hash, user_id, purpose, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                token.tokenHash, token.userId, token.purpose, token.createdAt, token.expiresAt);
    });
}

std::optional<std::string> SqlStore::consumeLoginToken(Id userId, std::string_view tokenHash,
                                                       Micros now) {
    return write("token", [&](Session& session) -> std::optional<std::string> {
        auto purpose = first(query<std::string>(
            session, *dialect_,
            "SELECT purpose FROM login_tokens WHERE user_id = ? AND token_hash = ? "
            "AND expires_at > ?" +
                dialect_->lockRows(),
            [](RowReader& r) { return r.text(); }, userId, std::string(tokenHash), now));
        if (!purpose) return std::nullopt;
        // Deleting is the check: of two concurrent uses, one deletes the row, the other finds
        // nothing (each in its own write transaction).
        if (affected(session, *dialect_,
                     "DELETE FROM login_tokens WHERE user_id = ? AND token_hash = ?", userId,
                     std::string(tokenHash)) != 1) {
            return std::nullopt;
        }
        return purpose;
    });
}

std::size_t SqlStore::revokeLoginTokens(Id userId) {
    return write("token", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM login_tokens WHERE user_id = ?", userId);
    });
}

} // namespace latchkey::sql
