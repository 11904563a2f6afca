// The Accounts facet: administrator accounts.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "records.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

AccountRecord SqlStore::createAccount(const AccountRecord& account) {
    AccountRecord out = account;
    out.id = write("email", [&](Session& session) {
        return insertReturningId(
            session, *dialect_,
            "INSERT INTO accounts (email, first_name, last_name, password_hash, key_lookup, "
            "key_sealed, is_active, metadata, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            account.email, account.firstName, account.lastName, account.passwordHash,
            account.key.lookup, account.key.sealed, asFlag(account.active), account.metadata,
            account.createdAt, account.updatedAt);
    });
    return out;
}

std::optional<AccountRecord> SqlStore::findAccountById(Id id) {
    return run("id", [&](Session& session) {
        return first(query<AccountRecord>(session, *dialect_,
                                          std::string("SELECT ") + kAccountColumns +
                                              " FROM accounts WHERE id = ?",
                                          readAccount, id));
    });
}

std::optional<AccountRecord> SqlStore::findAccountByEmail(std::string_view email) {
    return run("email", [&](Session& session) {
        return first(query<AccountRecord>(session, *dialect_,
                                          std::string("SELECT ") + kAccountColumns +
                                              " FROM accounts WHERE email = ?",
                                          readAccount, std::string(email)));
    });
}

std::optional<AccountRecord> SqlStore::findAccountByKey(std::string_view lookup) {
    return run("key", [&](Session& session) {
        return first(query<AccountRecord>(session, *dialect_,
                                          std::string("SELECT ") + kAccountColumns +
                                              " FROM accounts WHERE key_lookup = ?",
                                          readAccount, std::string(lookup)));
    });
}

bool SqlStore::updateAccountPasswordHash(Id id, std::string_view expectedHash,
                                         std::string_view passwordHash) {
    return write("password", [&](Session& session) {
        return affected(session, *dialect_,
                        "UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?",
                        std::string(passwordHash), id, std::string(expectedHash)) == 1;
    });
}

bool SqlStore::replaceAccountCredentials(Id id, std::string_view expectedLookup,
                                         const SealedKey& key,
                                         std::optional<std::string_view> passwordHash) {
    return write("key_lookup", [&](Session& session) {
        if (passwordHash) {
            return affected(session, *dialect_,
                            "UPDATE accounts SET key_lookup = ?, key_sealed = ?, password_hash = ? "
                            "WHERE id = ? AND key_lookup = ?",
                            key.lookup, key.sealed, std::string(*passwordHash), id,
                            std::string(expectedLookup)) == 1;
        }
        return affected(session, *dialect_,
                        "UPDATE accounts SET key_lookup = ?, key_sealed = ? "
                        "WHERE id = ? AND key_lookup = ?",
                        key.lookup, key.sealed, id, std::string(expectedLookup)) == 1;
    });
}

} // namespace latchkey::sql
