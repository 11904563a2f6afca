// A fresh temporary directory per test, removed afterwards.
#pragma once

#include <filesystem>
#include <string>

namespace latchkey::test {

/// Creates a unique directory under the system temp dir; removes it with its contents.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /// The directory.
    const std::filesystem::path& path() const { return path_; }
    /// `name` inside the directory, as a string.
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    /// Writes `content` to `name` inside the directory and returns its path.
    std::string write(const std::string& name, const std::string& content) const;

private:
    std::filesystem::path path_;
};

/// The whole content of a file ("" if unreadable).
std::string readFile(const std::string& path);

} // namespace latchkey::test
