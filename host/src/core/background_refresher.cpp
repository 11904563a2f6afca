// The refresh-ahead thread of the per-host caches.
#include "core/background_refresher.hpp"

#include <utility>

namespace latchkey::core {

BackgroundRefresher::BackgroundRefresher(std::size_t capacity)
    : capacity_(capacity), thread_([this] { run(); }) {}

BackgroundRefresher::~BackgroundRefresher() {
    stop();
}

bool BackgroundRefresher::submit(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || jobs_.size() >= capacity_) return false;
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

void BackgroundRefresher::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
        jobs_.clear();
    }
    wake_.notify_one();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void BackgroundRefresher::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        try {
            job();
        } catch (...) { // NOLINT(bugprone-empty-catch): see the class comment
        }
    }
}

} // namespace latchkey::core
