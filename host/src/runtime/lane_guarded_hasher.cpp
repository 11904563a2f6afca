// The password hasher as the core and the plugins see it, with a cap on standard-lane callers.
#include "runtime/lane_guarded_hasher.hpp"

#include "core/inline_attempt.hpp"
#include "runtime/worker_lane.hpp"

#include <latchkey/errors.hpp>

namespace latchkey::runtime {

class LaneGuardedHasher::Admission {
public:
    explicit Admission(LaneGuardedHasher& owner) : owner_(owner) {
        if (WorkerLane::current() != Lane::Standard) return;
        if (owner_.standardCallers_.fetch_add(1) >= owner_.standardLimit_) {
            owner_.standardCallers_.fetch_sub(1);
            throw Overloaded("password hashing from the standard lane is limited to " +
                             std::to_string(owner_.standardLimit_) +
                             " worker(s) at a time; register the route in Lane::Hashing");
        }
        counted_ = true;
    }
    ~Admission() {
        if (counted_) owner_.standardCallers_.fetch_sub(1);
    }
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;

private:
    LaneGuardedHasher& owner_;
    bool counted_ = false;
};

LaneGuardedHasher::LaneGuardedHasher(PasswordHasher& inner, std::size_t standardLimit)
    : inner_(inner), standardLimit_(standardLimit) {}

std::vector<std::string> LaneGuardedHasher::checkPolicy(std::string_view password) const {
    return inner_.checkPolicy(password);
}

template <class Call>
auto LaneGuardedHasher::counted(Call&& call) -> decltype(call()) {
    struct InFlight {
        std::atomic<std::size_t>& n;
        explicit InFlight(std::atomic<std::size_t>& count) : n(count) {
            n.fetch_add(1, std::memory_order_relaxed);
        }
        ~InFlight() { n.fetch_sub(1, std::memory_order_relaxed); }
        InFlight(const InFlight&) = delete;
        InFlight& operator=(const InFlight&) = delete;
    };
    try {
        const InFlight counting(inFlight_);
        const Admission admitted(*this);
        return call();
    } catch (const Overloaded&) {
        shed_.fetch_add(1, std::memory_order_relaxed);
        throw;
    }
}

std::string LaneGuardedHasher::hash(std::string_view password) {
    core::mayBlock(); // never on a network thread: an inline attempt goes to a worker
    return counted([&] { return inner_.hash(password); });
}

PasswordCheck LaneGuardedHasher::verify(std::string_view password, std::string_view stored) {
    core::mayBlock();
    return counted([&] { return inner_.verify(password, stored); });
}

} // namespace latchkey::runtime
