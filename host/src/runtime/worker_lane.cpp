// A lane of request workers: a fixed set of threads taking complete requests from a bounded
// queue.
#include "runtime/worker_lane.hpp"

#include <pthread.h>

namespace latchkey::runtime {

namespace {

thread_local std::optional<Lane> tCurrentLane;

} // namespace

const char* laneName(Lane lane) noexcept {
    switch (lane) {
    case Lane::Standard: return "standard";
    case Lane::Hashing: return "hashing";
    case Lane::Outbound: return "outbound";
    }
    return "unknown";
}

WorkerLane::WorkerLane(Lane lane, const std::string& name, std::size_t threads,
                       std::size_t queueLimit)
    : lane_(lane), threadCount_(threads), queueLimit_(queueLimit) {
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i)
        threads_.emplace_back([this, i, name] { work(i, name); });
}

WorkerLane::~WorkerLane() {
    stop();
}

std::size_t WorkerLane::queued() const {
    const std::lock_guard lock(mutex_);
    return queue_.size();
}

std::size_t WorkerLane::running() const {
    const std::lock_guard lock(mutex_);
    return running_;
}

bool WorkerLane::tryPost(Job job) {
    {
        std::lock_guard lock(mutex_);
        // Counted with the running ones: a job posted a moment ago and not picked up yet still
        // takes its worker.
        if (stopping_ || queue_.size() + running_ >= threadCount_ + queueLimit_) return false;
        queue_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
}

void WorkerLane::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& thread : threads_) {
        if (thread.joinable()) thread.join();
    }
}

std::optional<Lane> WorkerLane::current() noexcept {
    return tCurrentLane;
}

void WorkerLane::work(std::size_t index, const std::string& name) {
    // Linux keeps thread names to 15 characters.
    const std::string threadName = (name + "-" + std::to_string(index)).substr(0, 15);
    pthread_setname_np(pthread_self(), threadName.c_str());
    tCurrentLane = lane_;
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            // Finish what was queued before stopping: its clients are waiting for answers.
            if (queue_.empty()) return;
            job = std::move(queue_.front());
            queue_.pop_front();
            ++running_;
        }
        try {
            job();
        } catch (...) {
            // Jobs handle their own errors (the server's hand the connection back whatever
            // happens); one that escapes must not take the process with it.
        }
        std::lock_guard lock(mutex_);
        --running_;
    }
}

} // namespace latchkey::runtime
