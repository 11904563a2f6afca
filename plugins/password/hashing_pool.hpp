// A fixed set of worker threads for password hashing with a bounded queue: when the queue is
// full, callers get Overloaded at once instead of piling up behind a login flood.
#pragma once

#include <latchkey/errors.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace latchkey::plugins {

/// Runs jobs on `workers` threads; at most `capacity` jobs wait for a worker.
class HashingPool {
public:
    /// `nice` (0-19) is the workers' scheduling niceness: above 0 they yield the CPU to request
    /// threads, so a login flood cannot slow requests that need no hashing.
    HashingPool(std::size_t workers, std::size_t capacity, int nice = 0);
    ~HashingPool();
    HashingPool(const HashingPool&) = delete;
    HashingPool& operator=(const HashingPool&) = delete;

    /// Runs `job` on a worker and waits for its result (or exception). Throws Overloaded when
    /// `capacity` jobs are already waiting.
    template <class Job>
    auto run(Job&& job) -> decltype(job()) {
        using Result = decltype(job());
        auto task = std::make_shared<std::packaged_task<Result()>>(std::forward<Job>(job));
        std::future<Result> result = task->get_future();
        enqueue([task] { (*task)(); });
        return result.get();
    }

    /// Jobs waiting now (for tests and diagnostics).
    std::size_t waiting() const;

private:
    void enqueue(std::function<void()> job);
    void work(std::size_t index);

    const std::size_t capacity_;
    const int nice_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace latchkey::plugins
