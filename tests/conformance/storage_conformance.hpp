// What a runner of the storage conformance suite (storage_conformance.cpp) provides: the drivers
// to test and how to open a fresh, empty store of each. SDK and std only: installed with the SDK.
#pragma once

#include <latchkey/plugin.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace latchkey::conformance {

/// One storage driver under test.
struct Driver {
    std::string name; ///< For messages.
    /// A new, empty store of the driver whose files (if any) go under `dir`; the object keeps
    /// whatever it needs (its library, a database) alive.
    std::function<std::shared_ptr<Plugin>(const std::string& dir)> open;
    std::vector<std::string> expectedFacets; ///< Facet ids the driver must provide.
};

/// The drivers to test; the runner linked with the suite defines it.
std::vector<Driver> driversUnderTest();

} // namespace latchkey::conformance
