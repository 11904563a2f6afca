// The Files facet: files uploaded into profile fields.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "records.hpp"
#include "transactions.hpp"

#include <Poco/Data/LOB.h>

namespace latchkey::sql {

FileRecord SqlStore::createFile(const FileRecord& file) {
    FileRecord out = file;
    out.id = write("token", [&](Session& session) {
        const Poco::Data::BLOB data(reinterpret_cast<const unsigned char*>(file.data.data()),
                                    file.data.size());
        const Poco::Nullable<Poco::Int64> owner =
            file.ownerUserId ? Poco::Nullable<Poco::Int64>(*file.ownerUserId)
                             : Poco::Nullable<Poco::Int64>();
        return insertReturningId(session, *dialect_,
                                 "INSERT INTO files (instance_id, owner_user_id, field, token, "
                                 "filename, content_type, data, created_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 file.instanceId, owner, file.field, file.token, file.filename,
                                 file.contentType, data, file.createdAt);
    });
    return out;
}

std::optional<FileRecord> SqlStore::findFile(std::string_view token) {
    return run("token", [&](Session& session) -> std::optional<FileRecord> {
        Statement statement = execute(session, *dialect_,
                                      "SELECT id, instance_id, owner_user_id, field, token, "
                                      "filename, content_type, created_at, data FROM files "
                                      "WHERE token = ?",
                                      std::string(token));
        RecordSet rows(statement);
        if (rows.rowCount() == 0) return std::nullopt;
        RowReader reader(rows, 0);
        FileRecord file;
        file.id = reader.integer();
        file.instanceId = reader.integer();
        file.ownerUserId = reader.optionalInteger();
        file.field = reader.text();
        file.token = reader.text();
        file.filename = reader.text();
        file.contentType = reader.text();
        file.createdAt = reader.integer();
        const auto blob = rows.value(8, 0).extract<Poco::Data::BLOB>();
        file.data.assign(reinterpret_cast<const char*>(blob.rawContent()), blob.size());
        return file;
    });
}

bool SqlStore::deleteFile(std::string_view token, Id ownerUserId) {
    return write("token", [&](Session& session) {
        return affected(session, *dialect_,
                        "DELETE FROM files WHERE token = ? AND owner_user_id = ?",
                        std::string(token), ownerUserId) > 0;
    });
}

std::size_t SqlStore::deleteFieldFiles(Id instanceId, std::string_view field) {
    return write("field", [&](Session& session) {
        return affected(session, *dialect_, "DELETE FROM files WHERE instance_id = ? AND field = ?",
                        instanceId, std::string(field));
    });
}

} // namespace latchkey::sql
