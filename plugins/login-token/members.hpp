// The members of the login-token flow: instance users (through the identity service) with the
// flow's attributes, kept in its key/value area with index keys for the lookups it makes.
#pragma once

#include <latchkey/identities.hpp>
#include <latchkey/key_value_area.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::plugins::buzz {

/// What the flow keeps about a user beyond the instance user.
struct Attributes {
    std::string firstName;
    std::string lastName;
    std::string notes;
    std::optional<std::int64_t> roleId;
    bool superUser = false;
    /// Deactivated by a super user (`active: false`), until one activates it again: no
    /// invitation may make it active (resend_user_email refuses it).
    bool deactivated = false;
    /// The address the flow last knew the user by: when the username changes elsewhere (the
    /// v1.1 API), this is the old address the notice goes to. Empty for members stored before
    /// it was kept (filled in at their next rename).
    std::string address;
};

/// A user of the flow: the instance user (username = e-mail), whether it is active (the
/// identity service decides), and its attributes.
struct Member {
    UserRecord user;
    Attributes attributes;
    bool active = false;
};

/// The filters of a member listing; each given one must match.
struct MemberFilter {
    std::optional<Id> userId;
    std::optional<std::string> email; ///< Lowercase.
    std::optional<std::string> firstName;
    std::optional<std::string> lastName;
    std::optional<std::int64_t> roleId;
    std::optional<bool> active;
};

/// The members of one instance. Keys in the flow's area (ids zero-padded, so they list in order):
/// `member/<instance>/<user>` holds the attributes (JSON); `super/<instance>/<user>` exists
/// for each super user and `role-users/<instance>/<role>/<user>` for each user of a role, so
/// counting super users and finding a role's users read only those. An index key is written
/// before the record that needs it and removed only with the member (a change away from a role
/// leaves the old key), so it may be stale but is never missing; every lookup through one
/// checks the record. Thread-safe.
class Members {
public:
    Members(KeyValueArea& values, Identities& identities, Id instanceId);

    /// The member with this user id; nullopt for no user or a user that is not in the flow.
    std::optional<Member> find(Id userId);
    /// The member with this address (folded to lowercase).
    std::optional<Member> findByEmail(const std::string& email);
    /// The attributes of user `userId`, if it is in the flow.
    std::optional<Attributes> attributes(Id userId);
    /// Every member that matches, in id order: a query for the attributes, one for the inactive
    /// users, and one per thousand users; never one per member.
    std::vector<Member> list(const MemberFilter& filter);
    /// Stores the attributes of a user that has none yet.
    void create(Id userId, const Attributes& attributes);
    /// Changes the stored attributes (404 when the user has none) and returns the result.
    Attributes update(Id userId, const std::function<void(Attributes&)>& change);
    /// Removes a member's attributes and index keys (its user was deleted).
    void remove(Id userId);
    /// Removes every member's data (the instance was deleted).
    void removeAll();
    /// Active super users, excluding none.
    std::size_t countActiveSuperUsers();
    /// Whether any member has role `roleId`.
    bool anyWithRole(std::int64_t roleId);
    /// Moves data stored by login-token 1.x (`user/<instance>/<user>` with an `active` flag)
    /// to this layout, deactivating through the identity service those that were inactive.
    /// Idempotent; returns how many it moved.
    std::size_t migrateLegacy();
    /// Records the current address of every member stored without one (before the flow kept
    /// it, or moved from 1.x), once per instance: a marker in the area says it was done.
    /// Returns how many it filled in.
    std::size_t recordAddresses();

    /// The stored form of attributes, and back.
    static std::string serialize(const Attributes& attributes);
    static Attributes parse(const std::string& text);

private:
    std::string memberPrefix() const;
    std::string superPrefix() const;
    std::string rolePrefix(std::int64_t roleId) const;
    /// The member of `user` (with its attributes and state), if it is one.
    std::optional<Member> memberOf(std::optional<UserRecord> user);
    /// Puts (`add`) or removes the index keys of `attributes` for `userId`.
    void index(Id userId, const Attributes& attributes, bool add);

    KeyValueArea& values_;
    Identities& identities_;
    Id instanceId_;
};

} // namespace latchkey::plugins::buzz
