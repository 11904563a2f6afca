// Incremental framing of one HTTP/1.x request over Boost.Beast's basic_parser: Beast reads the
// request line, the fields, Content-Length and chunked bodies; this file adds the host's limits
// and the RFC 9112 rules Beast leaves to its user (Host, Transfer-Encoding, Expect).
#define BOOST_BEAST_USE_STD_STRING_VIEW 1

#include "runtime/request_parser.hpp"

#include <latchkey/router.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cctype>

namespace latchkey::runtime {

namespace http = boost::beast::http;
using boost::beast::error_code;

namespace {

/// Beyond a head, the parser holds back only a chunk-size line or a trailer section while it
/// waits for its end; this much more than a head is never legitimate.
constexpr std::size_t kLineSlack = 4096;

/// `value` lowercased with spaces and tabs removed, for comparing token lists.
std::string compact(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == ' ' || c == '\t') continue;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

} // namespace

/// Beast's parser, delivering what it parses into the RequestParser.
class RequestParser::Beast final : public http::basic_parser<true> {
public:
    explicit Beast(RequestParser& owner) : owner_(owner) {
        header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(owner.limits_.maxHeadBytes, UINT32_MAX)));
        body_limit(owner.limits_.maxBody);
        // Stop after the head, so it is checked before any body byte is taken.
        eager(false);
    }

private:
    void on_request_impl(http::verb, std::string_view method, std::string_view target, int version,
                         error_code&) override {
        RequestHead& head = owner_.head_;
        head.method.assign(method);
        head.target.assign(target);
        head.version = version;
    }

    void on_response_impl(int, std::string_view, int, error_code& ec) override {
        ec = http::error::bad_method; // never called for a request parser
    }

    void on_field_impl(http::field name, std::string_view nameText, std::string_view value,
                       error_code& ec) override {
        // Trailer fields of a chunked body count towards the limit but are never headers.
        if (++fields_ > owner_.limits_.maxHeaders) {
            ec = http::error::header_limit;
            return;
        }
        if (is_header_done()) return;
        if (name == http::field::host) ++owner_.hostHeaders_;
        if (name == http::field::transfer_encoding) {
            auto& te = owner_.transferEncoding_;
            te = te ? *te + "," + std::string(value) : std::string(value);
        }
        if (name == http::field::expect) owner_.expect_ = std::string(value);
        owner_.head_.headers.emplace_back(std::string(nameText), std::string(value));
    }

    void on_header_impl(error_code&) override {}

    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}

    std::size_t on_body_impl(std::string_view body, error_code&) override {
        owner_.body_.append(body);
        return body.size();
    }

    void on_chunk_header_impl(std::uint64_t, std::string_view, error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t, std::string_view body, error_code&) override {
        owner_.body_.append(body);
        return body.size();
    }

    void on_finish_impl(error_code&) override {}

    RequestParser& owner_;
    std::size_t fields_ = 0;
};

RequestParser::RequestParser(const ParserLimits& limits)
    : limits_(limits), beast_(std::make_unique<Beast>(*this)) {}

RequestParser::~RequestParser() = default;

void RequestParser::fail(int status, std::string message) {
    state_ = State::Failed;
    failure_ = Failure{status, std::move(message)};
}

std::size_t RequestParser::feed(std::string_view data) {
    if (!data.empty()) started_ = true;
    std::size_t used = 0;
    while (used < data.size() && (state_ == State::Head || state_ == State::Body)) {
        error_code ec;
        const std::size_t n =
            beast_->put(boost::asio::const_buffer(data.data() + used, data.size() - used), ec);
        used += n;
        if (state_ == State::Head) headBytes_ += n;
        if (ec == http::error::need_more) {
            // What is held back waits for the end of a line; it cannot grow without bound.
            if (data.size() - used > limits_.maxHeadBytes + kLineSlack) {
                fail(431, "Request header fields too large.");
            }
            break;
        }
        if (ec == http::error::header_limit) {
            fail(431, "Request header fields too large.");
            break;
        }
        if (ec == http::error::body_limit) {
            fail(413,
                 "Request body too large (limit " + std::to_string(limits_.maxBody) + " bytes).");
            break;
        }
        if (ec) {
            fail(400, "Malformed request.");
            break;
        }
        if (state_ == State::Head && beast_->is_header_done()) {
            // Beast's own limit can let a head a little over it through when the head arrives
            // in one piece (the fuzzer found one of 2,058 bytes against 2,048, refused when it
            // came in pieces): the limit is the head's size, however it arrives.
            if (headBytes_ > limits_.maxHeadBytes) {
                fail(431, "Request header fields too large.");
                break;
            }
            checkHead();
            if (state_ == State::Failed) break;
            state_ = State::Body;
            beast_->eager(true);
        }
        if (beast_->is_done()) {
            state_ = State::Done;
            break;
        }
        if (n == 0) break; // nothing more can be taken from this data now
    }
    return used;
}

void RequestParser::checkHead() {
    // Beast accepts HTTP/1.0 and HTTP/1.1 request lines only; anything else failed already.
    RequestHead& head = head_;
    // RFC 9112 3.2: exactly one Host in an HTTP/1.1 request; never two in any.
    if ((head.version == 11 && hostHeaders_ != 1) || hostHeaders_ > 1) {
        fail(400, "A request needs exactly one Host header.");
        return;
    }
    if (transferEncoding_) {
        // RFC 9112 6.1: chunked must be the last coding, and HTTP/1.0 has no transfer codings.
        if (head.version == 10 || !beast_->chunked()) {
            fail(400, "Malformed request.");
            return;
        }
        if (compact(*transferEncoding_) != "chunked") {
            fail(501, "Only the chunked transfer coding is supported.");
            return;
        }
    }
    const auto length = beast_->content_length();
    head.hasBody = beast_->chunked() || (length && *length > 0);
    if (expect_) {
        if (compact(*expect_) != "100-continue") {
            fail(417, "Expectation failed.");
            return;
        }
        head.expectContinue = head.version == 11 && head.hasBody;
    }
    head.keepAlive = beast_->keep_alive();
}

void RequestParser::finish() {
    if (state_ == State::Head && started_) fail(400, "Incomplete request.");
    if (state_ == State::Body) fail(400, "Incomplete request body.");
}

} // namespace latchkey::runtime
