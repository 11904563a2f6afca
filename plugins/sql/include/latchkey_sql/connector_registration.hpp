// Registers a Poco::Data connector for as long as a storage plugin object lives.
#pragma once

#include <mutex>

namespace latchkey::sql {

/// A base class of each SQL storage plugin, listed before SqlStore so it outlives the store's
/// sessions. Poco's SessionFactory (in libPocoData, which the host keeps loaded) holds the
/// connector, whose code is in the connector library this plugin brought in: it must be
/// unregistered before the plugin is unloaded, or the factory points into unmapped code.
template <class Connector>
class ConnectorRegistration {
protected:
    ConnectorRegistration() {
        std::lock_guard lock(mutex());
        if (users()++ == 0) Connector::registerConnector();
    }
    ~ConnectorRegistration() {
        std::lock_guard lock(mutex());
        if (--users() == 0) Connector::unregisterConnector();
    }

public:
    ConnectorRegistration(const ConnectorRegistration&) = delete;
    ConnectorRegistration& operator=(const ConnectorRegistration&) = delete;

private:
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }
    static int& users() {
        static int n = 0;
        return n;
    }
};

} // namespace latchkey::sql
