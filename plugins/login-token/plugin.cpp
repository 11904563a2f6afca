// The `login-token` flow plugin: the Buzz `/rest` flow (invitations by mail, single-use
// login tokens, cookie sessions, roles, lost passwords) on the users of one instance.
#include "buzz_service.hpp"
#include "settings.hpp"

#include <latchkey/context.hpp>
#include <latchkey/flow.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/storage/login_tokens.hpp>
#include <latchkey/storage/sessions.hpp>
#include <latchkey/user_events.hpp>

#include <memory>

namespace latchkey::plugins::buzz {

namespace {

class LoginTokenPlugin final : public Provides<Flow, UserEventListener, UserChangeGuard> {
public:
    using Settings = buzz::Settings;
    /// The flow's sessions and tokens; users go through the identity service.
    static constexpr const char* kStorageFacets[] = {Sessions::kInterfaceId,
                                                     LoginTokens::kInterfaceId};

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return buzz::readSettings(node, errors);
    }

    LoginTokenPlugin(PluginContext& context, Settings settings) {
        if (!context.mailer()) throw std::runtime_error("the login-token flow needs a mailer");
        service_ = std::make_unique<BuzzService>(context, std::move(settings));
    }

    void mount(Router& router) override { service_->mount(router); }
    void onUserEvent(const UserEvent& event) override { service_->onUserEvent(event); }
    std::optional<std::string> refuseChange(const UserEvent& proposed) override {
        return service_->refuseChange(proposed);
    }
    void changeFinished(const UserEvent& proposed) noexcept override {
        service_->changeFinished(proposed);
    }

private:
    std::unique_ptr<BuzzService> service_;
};

} // namespace

} // namespace latchkey::plugins::buzz

LATCHKEY_PLUGIN(latchkey::plugins::buzz::LoginTokenPlugin, "login-token", Flow, "2.0.0",
                "The Buzz /rest flow: invitations with mailed login tokens, cookie sessions, roles",
                "stable; tokens and session ids are stored only as hashes; trusts the mailer "
                "to deliver tokens to the right inbox")
