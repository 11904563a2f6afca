// Bare argon2id throughput with the password plugin's default (OWASP) parameters, on as many
// threads as cores: the ceiling for password logins over HTTP.
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (sodium_init() < 0) return 1;
    const double seconds = argc > 1 ? std::strtod(argv[1], nullptr) : 10.0;
    const unsigned threads = std::max(1U, std::thread::hardware_concurrency());
    const unsigned long long iterations = 2;
    const std::size_t memory = 19U << 20;
    char stored[crypto_pwhash_STRBYTES];
    const char password[] = "correct horse battery staple";
    if (crypto_pwhash_str_alg(stored, password, sizeof password - 1, iterations, memory,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return 1;
    }
    std::atomic<long> verified{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    const auto start = std::chrono::steady_clock::now();
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            while (!stop) {
                if (crypto_pwhash_str_verify(stored, password, sizeof password - 1) == 0)
                    ++verified;
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& w : workers)
        w.join();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("argon2id m=19MiB t=2 p=1: %u threads, %ld verifications in %.1fs = %.1f/s "
                "(%.1f ms each per thread)\n",
                threads, verified.load(), elapsed, static_cast<double>(verified) / elapsed,
                1000.0 * elapsed * threads / static_cast<double>(verified));
    return 0;
}
