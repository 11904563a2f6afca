// The connection layer's shared state: the caps on connections and on body memory, what the
// network threads and the workers share, and a connection with its phase list.
#include "runtime/event_loop.hpp"

namespace latchkey::runtime {

ConnectionCounter::ConnectionCounter(std::size_t total, std::size_t perAddress)
    : total_(total), perAddress_(perAddress) {}

bool ConnectionCounter::tryOpen(const std::string& address) {
    std::lock_guard lock(mutex_);
    if (open_.load(std::memory_order_relaxed) >= total_) return false;
    const auto it = byAddress_.find(address);
    if (perAddress_ != 0 && it != byAddress_.end() && it->second >= perAddress_) return false;
    if (it == byAddress_.end())
        byAddress_.emplace(address, 1);
    else
        ++it->second;
    open_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void ConnectionCounter::close(const std::string& address) {
    std::lock_guard lock(mutex_);
    const auto it = byAddress_.find(address);
    if (it == byAddress_.end()) return;
    if (--it->second == 0) byAddress_.erase(it);
    open_.fetch_sub(1, std::memory_order_relaxed);
}

bool BodyBudget::tryTake(std::uint64_t bytes) noexcept {
    std::uint64_t current = used_.load(std::memory_order_relaxed);
    do {
        if (current + bytes > limit_) return false;
    } while (!used_.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
    return true;
}

void BodyBudget::giveBack(std::uint64_t bytes) noexcept {
    if (bytes != 0) used_.fetch_sub(bytes, std::memory_order_relaxed);
}

ServerShared::ServerShared(const ServerSettings& s, const HostRouter& r,
                           std::shared_ptr<spdlog::logger> l, std::shared_ptr<spdlog::logger> a,
                           std::size_t maxConnections)
    : settings(s), limits{s.maxHeaderBytes, s.maxHeaders, s.maxBodyBytes}, router(r),
      log(std::move(l)), accessLog(std::move(a)),
      connections(maxConnections, s.maxConnectionsPerIp), bodies(s.maxBodyMemory) {}

Connection::Connection(const Poco::Net::StreamSocket& accepted, std::string peerAddress,
                       std::string clientAddress, std::string counted, EventLoop& owner)
    : socket(accepted), peer(std::move(peerAddress)), address(std::move(clientAddress)),
      capKey(std::move(counted)), loop(owner), since(SteadyClock::now()) {}

void PhaseList::pushBack(Connection& c) noexcept {
    c.previous = tail_;
    c.next = nullptr;
    if (tail_)
        tail_->next = &c;
    else
        head_ = &c;
    tail_ = &c;
    ++size_;
}

void PhaseList::remove(Connection& c) noexcept {
    if (c.previous)
        c.previous->next = c.next;
    else
        head_ = c.next;
    if (c.next)
        c.next->previous = c.previous;
    else
        tail_ = c.previous;
    c.previous = c.next = nullptr;
    --size_;
}

} // namespace latchkey::runtime
