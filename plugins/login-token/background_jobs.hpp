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
    /// Same as shutdown(0).
    ~BackgroundJobs();
    BackgroundJobs(const BackgroundJobs&) = delete;
    BackgroundJobs& operator=(const BackgroundJobs&) = delete;

    /// Queues `job`; false (and the job dropped) when the queue is full. A low-priority job is
    /// refused once the queue is half full, so it can never crowd out the others.
    bool post(std::function<void()> job, bool lowPriority = false);

    /// Jobs waiting now (not the one running).
    std::size_t waiting();

    /// Stops taking jobs, runs the queued ones until `deadline` passes, drops the rest, and
    /// waits for the job in progress. Returns how many were dropped. Call it while everything
    /// the jobs use is still alive.
    std::size_t shutdown(std::chrono::milliseconds deadline);

private:
    void work();

    const std::size_t capacity_;
    std::function<void(const std::string&)> onError_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    std::size_t dropped_ = 0;
    std::thread thread_;
};

} // namespace latchkey::plugins::buzz
