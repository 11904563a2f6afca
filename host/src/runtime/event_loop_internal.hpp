// What event_loop.cpp and event_loop_exchange.cpp share, inside the connection layer only:
// lingering's limits and sending what is left of an answer.
#pragma once

#include "runtime/event_loop.hpp"

#include <Poco/Exception.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>

namespace latchkey::runtime {

/// After an answer that closes the connection, how long (and how much) the rest of what the
/// client sends is read and thrown away, so it sees the answer instead of a reset.
constexpr std::chrono::milliseconds kLingerTime{2000};
/// The most bytes thrown away while lingering (see kLingerTime).
constexpr std::size_t kLingerBytes = 8 << 20;

/// True when a non-blocking socket operation failed only because it would have blocked.
inline bool wouldBlock(const Poco::Exception& e) {
    return e.code() == EAGAIN || e.code() == EWOULDBLOCK;
}

/// Sends what is left of `c.out`; true when all of it is sent. Throws when the connection is
/// broken.
inline bool flush(Connection& c) {
    while (c.sent < c.out.size()) {
        const std::size_t left = c.out.size() - c.sent;
        int n = 0;
        try {
            n = c.socket.sendBytes(c.out.data() + c.sent,
                                   static_cast<int>(std::min<std::size_t>(left, INT_MAX)));
        } catch (const Poco::IOException& e) {
            if (wouldBlock(e)) return false;
            throw;
        }
        if (n <= 0) return false;
        c.sent += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.sent = 0;
    return true;
}

} // namespace latchkey::runtime
