// ABI: SDK version numbers, and the stamp every plugin exports for the host to check first.
#pragma once

#include <cstdint>

/// SDK major version: a plugin built against another major is refused.
#define LATCHKEY_SDK_VERSION_MAJOR 2
/// SDK minor version: a plugin built against a newer minor than the host's is refused.
#define LATCHKEY_SDK_VERSION_MINOR 5
/// SDK patch version: never affects loading.
#define LATCHKEY_SDK_VERSION_PATCH 0

// The C++ standard library and its ABI decide whether std::string, std::function and friends
// have the same layout on both sides of the plugin boundary, so they are part of the stamp.
#if defined(_LIBCPP_VERSION)
#define LATCHKEY_DETAIL_STDLIB "libc++"
#define LATCHKEY_DETAIL_STDLIB_ABI "v1"
#elif defined(__GLIBCXX__)
#define LATCHKEY_DETAIL_STDLIB "libstdc++"
#if defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI
#define LATCHKEY_DETAIL_STDLIB_ABI "cxx11"
#else
#define LATCHKEY_DETAIL_STDLIB_ABI "cxx98"
#endif
#else
#define LATCHKEY_DETAIL_STDLIB "unknown-stdlib"
#define LATCHKEY_DETAIL_STDLIB_ABI "unknown"
#endif

#define LATCHKEY_DETAIL_STR2(x) #x
#define LATCHKEY_DETAIL_STR(x) LATCHKEY_DETAIL_STR2(x)

/// The toolchain fingerprint a plugin and the host must share exactly.
#define LATCHKEY_TOOLCHAIN_FINGERPRINT                                                             \
    LATCHKEY_DETAIL_STDLIB "/" LATCHKEY_DETAIL_STDLIB_ABI                                          \
                           "/ptr" LATCHKEY_DETAIL_STR(__SIZEOF_POINTER__)

namespace latchkey {

/// Magic number at the start of every AbiStamp, so a stray symbol of that name is not trusted.
inline constexpr std::uint32_t kAbiMagic = 0x4C4B4142; // "LKAB"

/// Plain data the host reads from a plugin library before running any of the plugin's functions.
/// Its layout never changes, in any version, so every host can read every plugin's stamp.
struct AbiStamp {
    std::uint32_t magic; ///< Always kAbiMagic.
    std::uint16_t major; ///< LATCHKEY_SDK_VERSION_MAJOR the plugin was built with.
    std::uint16_t minor; ///< LATCHKEY_SDK_VERSION_MINOR the plugin was built with.
    char toolchain[64];  ///< LATCHKEY_TOOLCHAIN_FINGERPRINT the plugin was built with.
};

/// The stamp of the code being compiled now (host or plugin).
inline constexpr AbiStamp kThisAbi{kAbiMagic, LATCHKEY_SDK_VERSION_MAJOR,
                                   LATCHKEY_SDK_VERSION_MINOR, LATCHKEY_TOOLCHAIN_FINGERPRINT};

} // namespace latchkey
