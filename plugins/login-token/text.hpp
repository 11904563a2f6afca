// The login-token flow's small text rules: addresses, names, hashes, tokens, mail templates.
#pragma once

#include "body.hpp"

#include <latchkey/random.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace latchkey::plugins::buzz {

/// One plain address: something@something, no spaces or control characters, at most 64
/// characters (it is the username: kMaxUsernameLength).
bool isEmail(const std::string& email);
/// The BLAKE2b-256 of `text`, in hex: how tokens and session ids are stored.
std::string hashHex(std::string_view text);
/// `bytes` random bytes from `random`, base64url without padding.
std::string randomToken(Random& random, std::size_t bytes);
/// `text` safe inside HTML text and attribute values.
std::string htmlEscape(const std::string& text);
/// Replaces each {{name}} of `text` once, left to right: a value is never expanded again, so a
/// first name of "{{link}}" stays that text. Unknown names stay as they are.
std::string fill(const std::string& text, const std::map<std::string, std::string>& values);
/// Whether `text` has control characters (tab and line breaks allowed when `allowLines`).
bool hasControl(const std::string& text, bool allowLines);
/// A one-line name: at most 128 bytes, no control characters; problems go into `body`.
void checkName(Body& body, const char* field, const std::string& value);

} // namespace latchkey::plugins::buzz
