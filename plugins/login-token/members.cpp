// The members of the login-token flow: instance users with the flow's attributes.
#include "members.hpp"

#include "value_store.hpp"

#include <latchkey/errors.hpp>
#include <latchkey/support/json_writer.hpp>
#include <latchkey/support/text.hpp>

#include <Poco/JSON/Object.h>

#include <algorithm>
#include <map>
#include <set>

namespace latchkey::plugins::buzz {

namespace {

/// Users are read a page at a time when listing.
constexpr std::size_t kListPage = 1000;

} // namespace

Members::Members(KeyValueArea& values, Identities& identities, Id instanceId)
    : values_(values), identities_(identities), instanceId_(instanceId) {}

std::string Members::memberPrefix() const {
    return "member/" + std::to_string(instanceId_) + "/";
}

std::string Members::superPrefix() const {
    return "super/" + std::to_string(instanceId_) + "/";
}

std::string Members::rolePrefix(std::int64_t roleId) const {
    return orderedKey("role-users/" + std::to_string(instanceId_) + "/", roleId) + "/";
}

std::string Members::serialize(const Attributes& a) {
    JsonWriter out;
    out.beginObject()
        .field("first_name", a.firstName)
        .field("last_name", a.lastName)
        .field("notes", a.notes)
        .field("role_id", a.roleId)
        .field("super_user", a.superUser);
    if (a.deactivated) out.field("deactivated", true);
    if (!a.address.empty()) out.field("address", a.address);
    out.endObject();
    return out.take();
}

Attributes Members::parse(const std::string& text) {
    const auto object = parseStored(text);
    Attributes a;
    a.firstName = object->optValue<std::string>("first_name", "");
    a.lastName = object->optValue<std::string>("last_name", "");
    a.notes = object->optValue<std::string>("notes", "");
    if (object->has("role_id") && !object->isNull("role_id")) {
        a.roleId = object->getValue<Poco::Int64>("role_id");
    }
    a.superUser = object->optValue<bool>("super_user", false);
    a.deactivated = object->optValue<bool>("deactivated", false);
    a.address = object->optValue<std::string>("address", "");
    return a;
}

void Members::index(Id userId, const Attributes& a, bool add) {
    const auto apply = [&](const std::string& key) {
        if (add) {
            values_.put(key, "");
        } else {
            values_.remove(key);
        }
    };
    if (a.superUser) apply(orderedKey(superPrefix(), userId));
    if (a.roleId) apply(orderedKey(rolePrefix(*a.roleId), userId));
}

std::optional<Attributes> Members::attributes(Id userId) {
    const auto stored = values_.get(orderedKey(memberPrefix(), userId));
    if (!stored) return std::nullopt;
    return parse(*stored);
}

std::optional<Member> Members::memberOf(std::optional<UserRecord> user) {
    if (!user) return std::nullopt;
    auto found = attributes(user->id);
    if (!found) return std::nullopt; // an instance user that is not part of this flow
    const bool active = identities_.isActive(instanceId_, user->id);
    return Member{std::move(*user), std::move(*found), active};
}

std::optional<Member> Members::find(Id userId) {
    return memberOf(identities_.findUser(instanceId_, userId));
}

std::optional<Member> Members::findByEmail(const std::string& email) {
    return memberOf(identities_.findUserByUsername(instanceId_, asciiLower(email)));
}

namespace {

bool matches(const Member& member, const MemberFilter& filter) {
    const Attributes& a = member.attributes;
    if (filter.userId && *filter.userId != member.user.id) return false;
    if (filter.email && *filter.email != member.user.username) return false;
    if (filter.firstName && *filter.firstName != a.firstName) return false;
    if (filter.lastName && *filter.lastName != a.lastName) return false;
    if (filter.roleId && a.roleId != filter.roleId) return false;
    if (filter.active && *filter.active != member.active) return false;
    return true;
}

} // namespace

std::vector<Member> Members::list(const MemberFilter& filter) {
    std::vector<Member> out;
    if (filter.userId) {
        // One member at most ("who is this", or a user without the read permission): found by
        // id, not by walking the instance.
        auto member = find(*filter.userId);
        if (member && matches(*member, filter)) out.push_back(std::move(*member));
        return out;
    }
    std::map<Id, Attributes> attributesById;
    for (const auto& [key, value] : values_.list(memberPrefix())) {
        if (const auto id = idAfter(key, memberPrefix())) attributesById[*id] = parse(value);
    }
    const auto inactiveIds = identities_.inactiveUsers(instanceId_);
    const std::set<Id> inactive(inactiveIds.begin(), inactiveIds.end());
    PageRequest page;
    page.limit = kListPage;
    for (;;) {
        const auto users = identities_.listUsers(instanceId_, page);
        for (const auto& user : users) {
            const auto it = attributesById.find(user.id);
            if (it == attributesById.end()) continue;
            Member member{user, it->second, !inactive.contains(user.id)};
            if (matches(member, filter)) out.push_back(std::move(member));
        }
        if (users.size() < kListPage) break;
        page.after = users.back().id;
    }
    return out;
}

void Members::create(Id userId, const Attributes& a) {
    index(userId, a, true);
    values_.put(orderedKey(memberPrefix(), userId), serialize(a));
}

Attributes Members::update(Id userId, const std::function<void(Attributes&)>& change) {
    Attributes after;
    changeValue(values_, orderedKey(memberPrefix(), userId),
                [&](const std::optional<std::string>& current) -> std::optional<std::string> {
                    if (!current) throw HttpError(404, "No such user.");
                    after = parse(*current);
                    change(after);
                    index(userId, after, true); // before the record: never missing
                    return serialize(after);
                });
    // The keys of what no longer holds stay: removing one could race a concurrent change back
    // to it and leave that one without its key. Lookups check the record anyway.
    return after;
}

void Members::remove(Id userId) {
    // The record first: an index key without its record is only stale.
    const auto found = attributes(userId);
    values_.remove(orderedKey(memberPrefix(), userId));
    if (found) index(userId, *found, false);
}

void Members::removeAll() {
    const std::string instance = std::to_string(instanceId_) + "/";
    for (const char* kind : {"member/", "super/", "role-users/", "user/"}) {
        for (const auto& entry : values_.list(kind + instance))
            values_.remove(entry.first);
    }
}

std::size_t Members::countActiveSuperUsers() {
    std::size_t count = 0;
    for (const auto& [key, value] : values_.list(superPrefix())) {
        const auto id = idAfter(key, superPrefix());
        if (!id) continue;
        const auto a = attributes(*id);
        if (a && a->superUser && identities_.isActive(instanceId_, *id)) ++count;
    }
    return count;
}

bool Members::anyWithRole(std::int64_t roleId) {
    const std::string prefix = rolePrefix(roleId);
    return std::ranges::any_of(values_.list(prefix), [&](const auto& entry) {
        const auto id = idAfter(entry.first, prefix);
        if (!id) return false;
        const auto a = attributes(*id);
        return a && a->roleId == roleId;
    });
}

std::size_t Members::recordAddresses() {
    const std::string done = "addresses-recorded/" + std::to_string(instanceId_);
    if (values_.get(done)) return 0;
    std::size_t filled = 0;
    for (const Member& member : list({})) {
        if (!member.attributes.address.empty()) continue;
        const std::string address = member.user.username;
        update(member.user.id, [&](Attributes& a) {
            if (a.address.empty()) a.address = address;
        });
        ++filled;
    }
    values_.put(done, "1");
    return filled;
}

std::size_t Members::migrateLegacy() {
    const std::string legacy = "user/" + std::to_string(instanceId_) + "/";
    std::size_t moved = 0;
    for (const auto& [key, value] : values_.list(legacy)) {
        const auto id = idAfter(key, legacy);
        if (!id) continue;
        const auto object = parseStored(value);
        if (identities_.findUser(instanceId_, *id)) {
            create(*id, parse(value));
            if (!object->optValue<bool>("active", false)) {
                identities_.setActive(instanceId_, *id, false);
            }
        }
        values_.remove(key);
        ++moved;
    }
    return moved;
}

} // namespace latchkey::plugins::buzz
