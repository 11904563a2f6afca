// One worker thread with a bounded queue for jobs that must not slow requests down.
#include "background_jobs.hpp"

#include <exception>

namespace latchkey::plugins::buzz {

BackgroundJobs::BackgroundJobs(std::size_t capacity,
                               std::function<void(const std::string&)> onError)
    : capacity_(capacity), onError_(std::move(onError)), thread_([this] { work(); }) {}

BackgroundJobs::~BackgroundJobs() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    thread_.join();
}

bool BackgroundJobs::post(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= capacity_) return false;
        queue_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
}

void BackgroundJobs::work() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            // Queued mail still goes out at shutdown: those users are waiting for it.
            if (queue_.empty()) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        try {
            job();
        } catch (const std::exception& e) {
            onError_(e.what());
        } catch (...) {
            onError_("unknown error");
        }
    }
}

} // namespace latchkey::plugins::buzz
