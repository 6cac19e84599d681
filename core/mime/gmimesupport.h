#pragma once
// What the core/mime files that call GMime share. Include after the Qt headers
// (GLib's headers compile with Qt's QT_NO_KEYWORDS on).

#include <gmime/gmime.h>

#include <mutex>

namespace MimeSupport {

// GMime keeps process-wide tables (charsets, iconv cache); g_mime_init() must run
// before first use, whichever thread gets there first.
inline void ensureGMime()
{
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

// A GObject reference released on every path out of a scope.
template <typename T>
struct GRef
{
    T *p = nullptr;
    explicit GRef(T *ptr) : p(ptr) {}
    ~GRef()
    {
        if (p)
            g_object_unref(p);
    }
    GRef(const GRef &) = delete;
    GRef &operator=(const GRef &) = delete;
    T *get() const { return p; }
};

} // namespace MimeSupport
