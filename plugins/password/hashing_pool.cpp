// A fixed set of worker threads for password hashing with a bounded queue.
#include "hashing_pool.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

namespace latchkey::plugins {

HashingPool::HashingPool(std::size_t workers, std::size_t capacity, int nice)
    : capacity_(capacity), nice_(nice) {
    threads_.reserve(workers);
    for (std::size_t i = 0; i < workers; ++i)
        threads_.emplace_back([this, i] { work(i); });
}

HashingPool::~HashingPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& thread : threads_)
        thread.join();
}

void HashingPool::enqueue(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= capacity_) {
            throw Overloaded("password hashing queue is full (" + std::to_string(capacity_) +
                             " waiting)");
        }
        queue_.push_back(std::move(job));
    }
    ready_.notify_one();
}

void HashingPool::work(std::size_t index) {
    const std::string name = "lk-argon2-" + std::to_string(index);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    if (nice_ > 0) {
        // Linux applies a niceness to the one thread whose id is given. Best effort: without
        // the right to change it, the thread runs at the process's priority.
        const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
        static_cast<void>(::setpriority(PRIO_PROCESS, tid, nice_));
    }
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            // Finish what was queued before stopping: its callers are waiting for an answer.
            if (queue_.empty()) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job();
    }
}

std::size_t HashingPool::waiting() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

} // namespace latchkey::plugins
