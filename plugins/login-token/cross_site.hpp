// What keeps another site from acting with a logged-in user's cookie: the request's origin and
// the body's media type.
#pragma once

#include <latchkey/request.hpp>

#include <string>
#include <string_view>

namespace latchkey::plugins::buzz {

/// The origin of `url` as a browser writes it in `Origin`: scheme and host lowercased, the
/// port only when it is not the scheme's default ("https://auth.example.com",
/// "http://127.0.0.1:8080"); empty when `url` has no scheme and host.
std::string originOf(std::string_view url);

/// Refuses (403) a request a browser sent from another site: a present `Origin` must be
/// `origin` (the public URL's), a present `Sec-Fetch-Site` must be `same-origin` or `none`.
/// A request with neither (curl, a server) passes: a browser sends at least `Origin` with every
/// cross-origin POST, PUT and DELETE, and `Sec-Fetch-Site` with every request.
void refuseCrossSite(const Request& request, std::string_view origin);

/// The essence of a media type (`type/subtype`, lowercased, without parameters or spaces):
/// "text/plain;charset=application/json" is "text/plain".
std::string mediaTypeEssence(std::string_view contentType);

} // namespace latchkey::plugins::buzz
