// The whole SDK in one include.
#pragma once

#include <latchkey/clock.hpp>
#include <latchkey/config.hpp>
#include <latchkey/context.hpp>
#include <latchkey/errors.hpp>
#include <latchkey/flow.hpp>
#include <latchkey/http.hpp>
#include <latchkey/json.hpp>
#include <latchkey/key_value_area.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/outbound_http.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/random.hpp>
#include <latchkey/social.hpp>
#include <latchkey/storage.hpp>
#include <latchkey/user_events.hpp>
#include <latchkey/version.hpp>
