// The login-token plugin's job queue: order, bounds, low priority, and shutdown with a deadline.
#include "background_jobs.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <string>
#include <vector>

using latchkey::plugins::buzz::BackgroundJobs;
using namespace std::chrono_literals;

namespace {

/// A job that waits until `gate` opens: holds the worker so the queue can fill behind it.
std::function<void()> blocker(const std::shared_future<void>& gate, std::atomic<bool>& started) {
    return [gate, &started] {
        started = true;
        gate.wait();
    };
}

void waitUntil(const std::atomic<bool>& flag) {
    for (int i = 0; i < 500 && !flag; ++i)
        std::this_thread::sleep_for(10ms);
    REQUIRE(flag);
}

} // namespace

TEST_CASE("Jobs run in order, and a job that throws is reported, not fatal", "[jobs]") {
    std::vector<std::string> errors;
    std::vector<int> ran;
    {
        BackgroundJobs jobs(10, [&errors](const std::string& what) { errors.push_back(what); });
        REQUIRE(jobs.post([&ran] { ran.push_back(1); }));
        REQUIRE(jobs.post([] { throw std::runtime_error("boom"); }));
        REQUIRE(jobs.post([&ran] { ran.push_back(2); }));
        CHECK(jobs.shutdown(10s) == 0);
    }
    CHECK(ran == std::vector<int>{1, 2});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "boom");
}

TEST_CASE("The queue is bounded, and low-priority jobs get only half of it", "[jobs]") {
    std::promise<void> open;
    std::atomic<bool> started = false;
    BackgroundJobs jobs(4, [](const std::string&) {});
    REQUIRE(jobs.post(blocker(open.get_future().share(), started)));
    waitUntil(started); // the worker holds the blocker; the queue is empty
    CHECK(jobs.post([] {}, true));
    CHECK(jobs.post([] {}, true));
    CHECK_FALSE(jobs.post([] {}, true)); // half of 4 is taken
    CHECK(jobs.post([] {}));
    CHECK(jobs.post([] {}));
    CHECK_FALSE(jobs.post([] {})); // full
    open.set_value();
    CHECK(jobs.shutdown(10s) == 0);
    CHECK_FALSE(jobs.post([] {})); // stopped
}

TEST_CASE("Shutdown runs queued jobs until the deadline, then drops the rest", "[jobs]") {
    std::promise<void> open;
    std::atomic<bool> started = false;
    std::atomic<int> ran = 0;
    BackgroundJobs jobs(10, [](const std::string&) {});
    REQUIRE(jobs.post(blocker(open.get_future().share(), started)));
    waitUntil(started);
    for (int i = 0; i < 3; ++i)
        REQUIRE(jobs.post([&ran] { ++ran; }));
    // The blocker outlives the deadline: what is queued behind it is dropped, not run.
    auto stopping = std::async(std::launch::async, [&jobs] { return jobs.shutdown(50ms); });
    std::this_thread::sleep_for(200ms);
    open.set_value();
    CHECK(stopping.get() == 3);
    CHECK(ran == 0);
}
