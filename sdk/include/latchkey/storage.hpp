// ABI: every storage facet and record, for storage drivers that implement several.
#pragma once

#include <latchkey/storage/accounts.hpp>
#include <latchkey/storage/api_keys.hpp>
#include <latchkey/storage/backup.hpp>
#include <latchkey/storage/classes.hpp>
#include <latchkey/storage/driver.hpp>
#include <latchkey/storage/files.hpp>
#include <latchkey/storage/groups.hpp>
#include <latchkey/storage/instances.hpp>
#include <latchkey/storage/key_values.hpp>
#include <latchkey/storage/login_tokens.hpp>
#include <latchkey/storage/sessions.hpp>
#include <latchkey/storage/social_identities.hpp>
#include <latchkey/storage/user_states.hpp>
#include <latchkey/storage/users.hpp>
