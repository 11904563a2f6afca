// A lane of request workers: a fixed set of threads taking complete requests from a bounded
// queue. The server keeps one lane per kind of work, so slow work cannot take every worker.
#pragma once

#include <latchkey/router.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace latchkey::runtime {

/// Runs jobs on `threads` threads; at most `queueLimit` jobs wait for one.
class WorkerLane {
public:
    using Job = std::function<void()>;

    /// Starts the threads, named "<name>-<n>" for debuggers and `top -H`.
    WorkerLane(Lane lane, const std::string& name, std::size_t threads, std::size_t queueLimit);
    /// stop().
    ~WorkerLane();
    WorkerLane(const WorkerLane&) = delete;
    WorkerLane& operator=(const WorkerLane&) = delete;

    /// Queues `job` and returns true, or returns false (and keeps nothing) when `queueLimit`
    /// jobs are already waiting. Never blocks.
    bool tryPost(Job job);

    /// Lets the threads finish every queued job, then joins them. Idempotent.
    void stop();

    /// Jobs waiting for a thread now.
    std::size_t queued() const;
    /// Jobs running now.
    std::size_t running() const;

    /// The lane of the calling thread, or nullopt outside every lane's threads.
    static std::optional<Lane> current() noexcept;

private:
    void work(std::size_t index, const std::string& name);

    const Lane lane_;
    const std::size_t threadCount_;
    const std::size_t queueLimit_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Job> queue_;
    std::size_t running_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

/// The lane's name as written in the configuration ("standard", "hashing", "outbound").
const char* laneName(Lane lane) noexcept;

} // namespace latchkey::runtime
