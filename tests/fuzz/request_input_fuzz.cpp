// libFuzzer target for request bodies: any bytes under any of the media types the host reads
// (JSON, form, multipart) must parse or be refused with HttpError (a 4xx), and every field must
// read as text without anything else escaping: no crash, no leak, no undefined behaviour, and
// never an exception that would be a 500. The first input byte chooses the Content-Type.
#include "core/request_input.hpp"

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>

using latchkey::FieldErrors;
using latchkey::HttpError;
using latchkey::Request;
using latchkey::core::RequestInput;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const char* const kTypes[] = {
        nullptr,
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=XyZ",
        "multipart/form-data; boundary=\"a b\"",
        "multipart/form-data",
        "text/plain;charset=application/json",
        "application/json; charset=utf-8",
    };
    Request request;
    request.method = "POST";
    request.path = "/v1.1/instances/fuzz/users/";
    if (const char* type = kTypes[data[0] % (sizeof kTypes / sizeof *kTypes)]) {
        request.headers.emplace_back("Content-Type", type);
    }
    request.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        const RequestInput input = RequestInput::parse(request);
        FieldErrors errors;
        for (const std::string& name : input.names()) {
            (void)input.text(name, errors, {.maxLength = 64});
            (void)input.has(name);
            (void)input.part(name);
        }
        input.rejectUnknown({"username", "password"});
    } catch (const HttpError& e) {
        if (e.status() < 400 || e.status() > 499) std::abort();
    } catch (const std::exception&) {
        std::abort(); // anything else would be a 500
    }
    return 0;
}
