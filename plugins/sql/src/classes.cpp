// The Classes facet: the profile schema, with a revision for compare-and-set.
#include "latchkey_sql/sql_store.hpp"

#include "query.hpp"
#include "records.hpp"
#include "transactions.hpp"

namespace latchkey::sql {

std::optional<ClassRecord> SqlStore::findClass(Id instanceId, std::string_view name) {
    return run("name", [&](Session& session) {
        return first(query<ClassRecord>(session, *dialect_,
                                        std::string("SELECT ") + kClassColumns +
                                            " FROM classes WHERE instance_id = ? AND name = ?",
                                        readClass, instanceId, std::string(name)));
    });
}

std::optional<ClassRecord> SqlStore::saveClass(const ClassRecord& record,
                                               std::int64_t expectedRevision) {
    ClassRecord out = record;
    if (record.id == 0) {
        try {
            out.revision = 1;
            out.id = write("name", [&](Session& session) {
                return insertReturningId(
                    session, *dialect_,
                    "INSERT INTO classes (instance_id, name, description, schema_json, revision, "
                    "metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    record.instanceId, record.name, record.description, record.schema, out.revision,
                    record.metadata, record.createdAt, record.updatedAt);
            });
            return out;
        } catch (const Conflict&) {
            return std::nullopt; // created by someone else meanwhile
        }
    }
    const bool saved = write("name", [&](Session& session) {
        return affected(session, *dialect_,
                        "UPDATE classes SET description = ?, schema_json = ?, metadata = ?, "
                        "updated_at = ?, revision = revision + 1 WHERE id = ? AND revision = ?",
                        record.description, record.schema, record.metadata, record.updatedAt,
                        record.id, expectedRevision) == 1;
    });
    if (!saved) return std::nullopt;
    out.revision = expectedRevision + 1;
    return out;
}

} // namespace latchkey::sql
