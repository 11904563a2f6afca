// libFuzzer target for the `/rest` flow's readers of browser headers: the session cookie out of
// `Cookie`, the origin of `Origin` and of the public URL, the media type of `Content-Type`.
// Any bytes must give a value that is really in the header (or, for the media type, its
// lowercased essence), or nothing, without a crash, a leak
// or undefined behaviour. Input: the header value (for all three readers).
#include "cookie_header.hpp"
#include "cross_site.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace latchkey::plugins::buzz;
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    if (const auto value = cookieValue(header, "buzz", 128)) {
        if (value->empty() || value->size() > 128 || value->find(';') != std::string::npos ||
            header.find("buzz=" + *value) == std::string_view::npos) {
            std::abort();
        }
    }
    const std::string origin = originOf(header);
    if (!origin.empty() && origin.find("://") == std::string::npos) std::abort();
    // The essence is compared whole with "application/json" and the like: it must hold no
    // parameter, no surrounding white space and no uppercase letter.
    const std::string essence = mediaTypeEssence(header);
    if (essence.find(';') != std::string::npos ||
        (!essence.empty() && (essence.front() == ' ' || essence.back() == ' ' ||
                              essence.front() == '\t' || essence.back() == '\t')) ||
        std::any_of(essence.begin(), essence.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
        std::abort();
    }
    return 0;
}
