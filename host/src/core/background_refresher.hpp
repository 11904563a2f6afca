// One thread that reads cache entries again off the request path (refresh ahead), from a
// bounded queue.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace latchkey::core {

/// Runs submitted jobs one after another on its own thread. A job that throws is dropped with
/// its exception: a refresh that failed leaves its entry to expire by its time-to-live, and the
/// next request that misses it meets the error itself.
class BackgroundRefresher {
public:
    /// At most `capacity` jobs wait; more are refused.
    explicit BackgroundRefresher(std::size_t capacity);
    /// stop().
    ~BackgroundRefresher();

    BackgroundRefresher(const BackgroundRefresher&) = delete;
    BackgroundRefresher& operator=(const BackgroundRefresher&) = delete;

    /// Queues `job`; false when the queue is full or stop() was called (the job never runs).
    bool submit(std::function<void()> job);

    /// Waits for the running job, drops the waiting ones, and refuses every later submit().
    /// Call it before anything a job may use is destroyed.
    void stop();

private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    const std::size_t capacity_;
    bool stopping_ = false;
    std::thread thread_; ///< Last: started once everything it reads is constructed.
};

} // namespace latchkey::core
