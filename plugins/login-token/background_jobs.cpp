// One worker thread with a bounded queue for jobs that must not slow requests down.
#include "background_jobs.hpp"

#include <exception>

namespace latchkey::plugins::buzz {

BackgroundJobs::BackgroundJobs(std::size_t capacity,
                               std::function<void(const std::string&)> onError)
    : capacity_(capacity), onError_(std::move(onError)), thread_([this] { work(); }) {}

BackgroundJobs::~BackgroundJobs() {
    shutdown(std::chrono::milliseconds(0));
}

std::size_t BackgroundJobs::waiting() {
    const std::lock_guard lock(mutex_);
    return queue_.size();
}

std::size_t BackgroundJobs::shutdown(std::chrono::milliseconds deadline) {
    {
        std::lock_guard lock(mutex_);
        if (!thread_.joinable()) return dropped_;
        stopping_ = true;
        deadline_ = std::chrono::steady_clock::now() + deadline;
    }
    ready_.notify_all();
    thread_.join();
    return dropped_;
}

bool BackgroundJobs::post(std::function<void()> job, bool lowPriority) {
    {
        std::lock_guard lock(mutex_);
        const std::size_t limit = lowPriority ? capacity_ / 2 : capacity_;
        if (stopping_ || queue_.size() >= limit) return false;
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
            if (queue_.empty()) return;
            // Queued jobs still run at shutdown (users are waiting for that mail), but only
            // until the deadline: a dead mail server must not hold the host for an hour.
            if (stopping_ && std::chrono::steady_clock::now() >= deadline_) {
                dropped_ += queue_.size();
                queue_.clear();
                return;
            }
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
