// ABI: the host's cryptographically secure random source, injected so tests can control it.
#pragma once

#include <cstddef>

namespace latchkey {

/// A CSPRNG. Thread-safe. Use it for every key, token, salt and nonce.
class Random {
public:
    virtual ~Random() = default;
    /// Fills `size` bytes at `data` with secure random bytes.
    virtual void fill(void* data, std::size_t size) = 0;
};

} // namespace latchkey
