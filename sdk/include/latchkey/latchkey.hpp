// Every SDK header in one include: the ABI headers (interfaces and records) and the support
// headers (code compiled into the plugin). docs/plugin-authoring.md says which is which.
#pragma once

#include <latchkey/clock.hpp>
#include <latchkey/config_errors.hpp>
#include <latchkey/config_value.hpp>
#include <latchkey/context.hpp>
#include <latchkey/errors.hpp>
#include <latchkey/events.hpp>
#include <latchkey/flow.hpp>
#include <latchkey/identities.hpp>
#include <latchkey/key_value_area.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/mailer.hpp>
#include <latchkey/metrics.hpp>
#include <latchkey/outbound_http.hpp>
#include <latchkey/password_hasher.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/random.hpp>
#include <latchkey/request.hpp>
#include <latchkey/response.hpp>
#include <latchkey/router.hpp>
#include <latchkey/social.hpp>
#include <latchkey/storage.hpp>
#include <latchkey/user_events.hpp>
#include <latchkey/version.hpp>

#include <latchkey/support/config_reader.hpp>
#include <latchkey/support/event_json.hpp>
#include <latchkey/support/json_writer.hpp>
#include <latchkey/support/null_metrics.hpp>
#include <latchkey/support/retry.hpp>
#include <latchkey/support/storage_facets.hpp>
#include <latchkey/support/text.hpp>
#include <latchkey/support/time.hpp>
#include <latchkey/support/units.hpp>
