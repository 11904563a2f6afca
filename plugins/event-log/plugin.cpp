// The `event-log` event sink: every event as one JSON line appended to a file, for a log
// shipper to pick up (or `tail -f`). The line is the shape every sink writes (eventJson).
#include <latchkey/context.hpp>
#include <latchkey/events.hpp>
#include <latchkey/logger.hpp>
#include <latchkey/plugin.hpp>
#include <latchkey/support/config_reader.hpp>
#include <latchkey/support/event_json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
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

    EventLog(PluginContext& context, Settings settings) : settings_(std::move(settings)) {
        settings_.path = context.resolvePath(settings_.path);
        // Appended to, never truncated; readable by the server's user only (events carry user
        // ids and client addresses).
        fd_ = ::open(settings_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd_ < 0) {
            throw std::runtime_error("cannot open the event log " + settings_.path + ": " +
                                     std::generic_category().message(errno));
        }
        context.logger().info("events go to " + settings_.path);
    }
    ~EventLog() override { ::close(fd_); }
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    /// Written at once: a local append is quick (no fsync per line: the kernel's page cache
    /// keeps it across a crash of this process, not of the machine).
    void accept(const Event& event) override {
        if (!eventTypeSelected(settings_.types, event.type)) return;
        const std::string line = eventJson(event) + "\n";
        const std::lock_guard lock(mutex_); // one write per line, in the order published
        std::size_t written = 0;
        while (written < line.size()) {
            const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::runtime_error("cannot write to the event log " + settings_.path + ": " +
                                         std::generic_category().message(errno));
            }
            written += static_cast<std::size_t>(n);
        }
    }

private:
    Settings settings_;
    int fd_ = -1;
    std::mutex mutex_;
};

} // namespace

} // namespace latchkey::plugins

LATCHKEY_PLUGIN(latchkey::plugins::EventLog, "event-log", EventSink, "1.0.0",
                "Events as JSON lines appended to a file",
                "stable; the file is created 0600 and only appended to")
