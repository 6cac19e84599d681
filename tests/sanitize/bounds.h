#pragma once
// Bounds that tests assert on the product's own time and memory (a GUI pause,
// a greeting delay, a peak RSS). Under AddressSanitizer and UBSan
// (scripts/test --sanitize, which defines SMTPSCOPE_SANITIZED) the code runs
// several times slower, and ASan adds its shadow memory and a quarantine of
// freed blocks (256 MiB by default) to the resident size. There a bound is
// widened by those costs, not dropped: it still catches a hang or memory that
// grows with the input, which is what each bound is for.

#include <QtGlobal>

namespace Bounds {

#ifdef SMTPSCOPE_SANITIZED
inline constexpr bool Sanitized = true;
#else
inline constexpr bool Sanitized = false;
#endif

// A time bound in milliseconds.
[[nodiscard]] constexpr qint64 timeMs(qint64 ms)
{
    return Sanitized ? ms * 5 : ms;
}

// A memory bound in bytes.
[[nodiscard]] constexpr qint64 memoryBytes(qint64 bytes)
{
    return Sanitized ? bytes * 2 + qint64(256) * 1024 * 1024 : bytes;
}

} // namespace Bounds
