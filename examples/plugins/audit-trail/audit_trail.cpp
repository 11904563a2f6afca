// An example event sink (SDK 2.5), built out of tree: a human-readable audit trail, one line per
// event (`2026-12-04T10:00:00.123456Z user.logged_in instance=3 user=7 client=...`), written by a
// thread of its own so that accept() never waits on the disk.
//
//   events:
//     audit-trail:
//       path: audit.log
//
// The pattern every sink follows: accept() copies the event into a bounded queue and returns;
// a worker thread writes; the destructor writes what is left before it returns.
#include <latchkey/context.hpp>
#include <latchkey/events.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/support/config_reader.hpp>
#include <latchkey/support/time.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace example {

using namespace latchkey;

struct Settings {
    std::string path;
    std::size_t queue = 10000;
};

Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
    ConfigReader r(node, errors);
    Settings s;
    s.path = r.requiredString("path");
    s.queue = static_cast<std::size_t>(r.integer("queue", 10000, 1, 1000000));
    r.finish();
    return s;
}

/// `event` as one line: its time, type, ids and data, with anything but printable ASCII
/// replaced, so no field can start a line of its own.
std::string line(const Event& event) {
    std::string out = formatTimestamp(toMicros(event.time)) + " " + event.type;
    if (event.instanceId) out += " instance=" + std::to_string(*event.instanceId);
    if (event.userId) out += " user=" + std::to_string(*event.userId);
    for (const auto& [name, value] : event.data)
        out += " " + name + "=" + value;
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    return out + "\n";
}

class AuditTrail final : public Provides<EventSink> {
public:
    using Settings = example::Settings;

    static Settings readSettings(const ConfigValue& node, ConfigErrors& errors) {
        return example::readSettings(node, errors);
    }

    AuditTrail(PluginContext& context, Settings settings)
        : context_(context), settings_(std::move(settings)) {
        settings_.path = context.resolvePath(settings_.path);
        // Private whatever the umask: user ids and client addresses.
        const int fd =
            ::open(settings_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        file_ = fd < 0 ? nullptr : ::fdopen(fd, "a");
        if (!file_) {
            if (fd >= 0) ::close(fd);
            throw std::runtime_error("cannot open " + settings_.path);
        }
        writer_ = std::thread([this] { write(); });
    }

    /// Writes everything queued, then closes the file.
    ~AuditTrail() override {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_one();
        writer_.join();
        std::fclose(file_);
    }
    AuditTrail(const AuditTrail&) = delete;
    AuditTrail& operator=(const AuditTrail&) = delete;

    void accept(const Event& event) override {
        {
            const std::lock_guard lock(mutex_);
            if (queue_.size() >= settings_.queue) {
                context_.logger().warn("audit trail full: " + event.type + " not written");
                return;
            }
            queue_.push_back(line(event));
        }
        ready_.notify_one();
    }

private:
    void write() {
        std::unique_lock lock(mutex_);
        for (;;) {
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return; // stopping, and everything written
            const std::string next = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            std::fputs(next.c_str(), file_);
            std::fflush(file_);
            lock.lock();
        }
    }

    PluginContext& context_;
    Settings settings_;
    std::FILE* file_ = nullptr;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::string> queue_;
    bool stopping_ = false;
    std::thread writer_; ///< Last: it uses everything above.
};

} // namespace example

LATCHKEY_PLUGIN(example::AuditTrail, "audit-trail", EventSink, "1.0.0",
                "Events as readable lines in a file, written off the publishing thread",
                "example; the file holds user ids and client addresses: keep it private")
