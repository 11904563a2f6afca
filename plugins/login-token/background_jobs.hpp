// One worker thread with a bounded queue: mail is sent off the request path, so a slow or
// broken mail server never slows an answer, and a lost-password answer takes the same time
// whether or not the address exists.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace latchkey::plugins::buzz {

/// Runs posted jobs in order on its own thread. Jobs must not throw (they are wrapped anyway).
class BackgroundJobs {
public:
    /// At most `capacity` jobs wait. `onError` is told about a job that threw.
    BackgroundJobs(std::size_t capacity, std::function<void(const std::string&)> onError);
    /// Finishes the queued jobs for up to `drain`, then stops.
    ~BackgroundJobs();
    BackgroundJobs(const BackgroundJobs&) = delete;
    BackgroundJobs& operator=(const BackgroundJobs&) = delete;

    /// Queues `job`; false (and the job dropped) when the queue is full.
    bool post(std::function<void()> job);

private:
    void work();

    const std::size_t capacity_;
    std::function<void(const std::string&)> onError_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace latchkey::plugins::buzz
