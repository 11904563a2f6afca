// The `event-log` event sink: every event as one JSON line appended to a file, for a log
// shipper to pick up (or `tail -f`). The line is the shape every sink writes (eventJson).
#include <latchkey/context.hpp>
#include <latchkey/events.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/support/config_reader.hpp>
#include <latchkey/support/event_json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace latchkey::plugins {

namespace {

struct Settings {
    std::string path;
    /// Event types written (`user.created`, or `user.*` for a subject); empty: every event.
    std::vector<std::string> types;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.path = r.requiredString("path");
    s.types = r.strings("types");
    r.finish();
    return s;
}

class EventLog final : public Provides<EventSink> {
public:
    using Settings = plugins::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return plugins::readSettings(node, errors);
    }

    EventLog(PluginContext& context, Settings settings)
        : context_(context), settings_(std::move(settings)) {
        settings_.path = context.resolvePath(settings_.path);
        // Appended to, never truncated; readable by the server's user only (events carry user
        // ids and client addresses), also when the file was there before.
        fd_ = ::open(settings_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd_ < 0) {
            throw std::runtime_error("cannot open the event log " + settings_.path + ": " +
                                     std::generic_category().message(errno));
        }
        if (::fchmod(fd_, 0600) != 0) {
            const int error = errno;
            ::close(fd_);
            throw std::runtime_error("cannot make the event log " + settings_.path +
                                     " private: " + std::generic_category().message(error));
        }
        writer_ = std::thread([this] { write(); });
        context.logger().info("events go to " + settings_.path);
    }

    /// Writes everything queued (a local file: quick), then closes it.
    ~EventLog() override {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_one();
        writer_.join();
        ::close(fd_);
    }
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    /// Queued: the line is written by a thread of its own, so a disk that stalls never holds
    /// the request that published.
    void accept(const Event& event) override {
        if (!eventTypeSelected(settings_.types, event.type)) return;
        std::string line = eventJson(event) + "\n";
        {
            const std::lock_guard lock(mutex_);
            if (queue_.size() >= kQueue) {
                ++dropped_;
                return;
            }
            queue_.push_back(std::move(line));
        }
        ready_.notify_one();
    }

private:
    static constexpr std::size_t kQueue = 100000;

    /// The writer: one write() per line, in the order published (no fsync per line: the page
    /// cache keeps it across a crash of this process, not of the machine).
    void write() noexcept {
        std::unique_lock lock(mutex_);
        for (;;) {
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (dropped_ > 0) {
                const std::size_t dropped = std::exchange(dropped_, 0);
                lock.unlock();
                report(std::to_string(dropped) + " events dropped: the event log fell behind");
                lock.lock();
            }
            if (queue_.empty()) return; // stopping, and everything written
            const std::string line = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            append(line);
            lock.lock();
        }
    }

    void append(const std::string& line) noexcept {
        std::size_t written = 0;
        while (written < line.size()) {
            const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
            if (n < 0) {
                if (errno == EINTR) continue;
                report("cannot write to the event log " + settings_.path + ": " +
                       std::generic_category().message(errno));
                return;
            }
            written += static_cast<std::size_t>(n);
        }
    }

    /// Logs a failure, at most once a minute (a full disk fails every line).
    void report(const std::string& what) noexcept {
        const auto now = std::chrono::steady_clock::now();
        if (now - lastReport_ < std::chrono::minutes(1)) return;
        lastReport_ = now;
        try {
            context_.logger().error(what);
        } catch (...) {
            // nothing more to be done from the writer thread
        }
    }

    PluginContext& context_;
    Settings settings_;
    int fd_ = -1;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::string> queue_;
    std::size_t dropped_ = 0;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point lastReport_{}; ///< The writer's own.
    std::thread writer_;                                 ///< Last: it uses everything above.
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::EventLog, "event-log", EventSink, "1.0.0",
                "Events as JSON lines appended to a file",
                "stable; the file is created 0600 and only appended to")
