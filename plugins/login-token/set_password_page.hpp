// The page the emailed link opens: a small form that posts to change_password. No external
// assets; strict security headers.
#pragma once

#include <latchkey/router.hpp>

#include <string>

namespace latchkey::plugins::buzz {

/// The page, answering `changePasswordPath` with the email and token from the link's fragment
/// (#email=...&token=..., which never reaches a server log or a Referer header). `nonce`
/// authorises its inline script and style under the Content-Security-Policy.
Response setPasswordPage(const std::string& changePasswordPath, const std::string& nonce);

} // namespace latchkey::plugins::buzz
