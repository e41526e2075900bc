// zlib (Debian: zlib1g-dev), for the gzip wrapper pprof's profile.proto files need. deflateInit2/inflateInit2
// are macros Swift cannot call: these inline functions call the real entry points with this zlib's version.
#include <zlib.h>

/// deflate with a gzip header and trailer (windowBits 15 + 16).
static inline int ws_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// inflate of gzip or zlib data (windowBits 15 + 32: header detected).
static inline int ws_inflate_init_auto(z_stream *s) { return inflateInit2(s, 15 + 32); }
