// Support (compiled into the plugin): every facet a storage plugin object provides,
// found once through Plugin::provide, for the host and for tests of a driver.
#pragma once

#include <latchkey/plugin.hpp>
#include <latchkey/storage.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey {

/// The facets a storage driver's object implements, as Plugin::provide answered for this SDK's
/// version of each. A facet the driver lacks is null; its accessor throws std::logic_error
/// naming it (the host checks what the configuration needs before serving, so it never does).
class StorageFacets {
public:
    /// Asks `driver` for every facet this SDK knows.
    explicit StorageFacets(Plugin& driver) noexcept
        : driver_(provided<StorageDriver>(driver)), keyValues_(provided<KeyValues>(driver)),
          accounts_(provided<Accounts>(driver)), instances_(provided<Instances>(driver)),
          apiKeys_(provided<ApiKeys>(driver)), users_(provided<Users>(driver)),
          groups_(provided<Groups>(driver)), classes_(provided<Classes>(driver)),
          files_(provided<Files>(driver)), sessions_(provided<Sessions>(driver)),
          loginTokens_(provided<LoginTokens>(driver)),
          socialIdentities_(provided<SocialIdentities>(driver)),
          userStates_(provided<UserStates>(driver)), plugin_(&driver) {}

    /// The kind's own interface.
    StorageDriver& driver() const { return need(driver_, StorageDriver::kInterfaceId); }
    /// @name One accessor per facet.
    ///@{
    KeyValues& keyValues() const { return need(keyValues_, KeyValues::kInterfaceId); }
    Accounts& accounts() const { return need(accounts_, Accounts::kInterfaceId); }
    Instances& instances() const { return need(instances_, Instances::kInterfaceId); }
    ApiKeys& apiKeys() const { return need(apiKeys_, ApiKeys::kInterfaceId); }
    Users& users() const { return need(users_, Users::kInterfaceId); }
    Groups& groups() const { return need(groups_, Groups::kInterfaceId); }
    Classes& classes() const { return need(classes_, Classes::kInterfaceId); }
    Files& files() const { return need(files_, Files::kInterfaceId); }
    Sessions& sessions() const { return need(sessions_, Sessions::kInterfaceId); }
    LoginTokens& loginTokens() const { return need(loginTokens_, LoginTokens::kInterfaceId); }
    SocialIdentities& socialIdentities() const {
        return need(socialIdentities_, SocialIdentities::kInterfaceId);
    }
    UserStates& userStates() const { return need(userStates_, UserStates::kInterfaceId); }
    ///@}
    /// The UserStates facet, or nullptr for a driver without it (older than SDK 2.1).
    UserStates* userStatesIfAny() const noexcept { return userStates_; }

    /// The facet named `id` (in this SDK's version of it) as Plugin::provide answers it, or
    /// nullptr; for handing a declared facet to a plugin.
    void* find(std::string_view id, std::uint32_t version) const noexcept {
        return plugin_->provide(id, version);
    }
    /// Which of `ids` the driver lacks, in the order given.
    std::vector<std::string> missing(const std::vector<std::string>& ids) const {
        std::vector<std::string> out;
        for (const auto& id : ids) {
            if (!has(id)) out.push_back(id);
        }
        return out;
    }
    /// Whether the driver provides the facet named `id` in the version this SDK knows.
    bool has(std::string_view id) const noexcept {
        for (const auto& [name, version] : kKnown) {
            if (id == name) return find(id, version) != nullptr;
        }
        return false;
    }

private:
    struct Known {
        const char* id;
        std::uint32_t version;
    };
    static constexpr Known kKnown[] = {
        {StorageDriver::kInterfaceId, StorageDriver::kInterfaceVersion},
        {KeyValues::kInterfaceId, KeyValues::kInterfaceVersion},
        {Accounts::kInterfaceId, Accounts::kInterfaceVersion},
        {Instances::kInterfaceId, Instances::kInterfaceVersion},
        {ApiKeys::kInterfaceId, ApiKeys::kInterfaceVersion},
        {Users::kInterfaceId, Users::kInterfaceVersion},
        {Groups::kInterfaceId, Groups::kInterfaceVersion},
        {Classes::kInterfaceId, Classes::kInterfaceVersion},
        {Files::kInterfaceId, Files::kInterfaceVersion},
        {Sessions::kInterfaceId, Sessions::kInterfaceVersion},
        {LoginTokens::kInterfaceId, LoginTokens::kInterfaceVersion},
        {SocialIdentities::kInterfaceId, SocialIdentities::kInterfaceVersion},
        {UserStates::kInterfaceId, UserStates::kInterfaceVersion},
    };

    template <class Facet>
    static Facet& need(Facet* facet, const char* id) {
        if (!facet) throw std::logic_error(std::string("the storage driver has no ") + id);
        return *facet;
    }

    StorageDriver* driver_;
    KeyValues* keyValues_;
    Accounts* accounts_;
    Instances* instances_;
    ApiKeys* apiKeys_;
    Users* users_;
    Groups* groups_;
    Classes* classes_;
    Files* files_;
    Sessions* sessions_;
    LoginTokens* loginTokens_;
    SocialIdentities* socialIdentities_;
    UserStates* userStates_;
    Plugin* plugin_;
};

} // namespace latchkey
