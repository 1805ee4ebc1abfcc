#ifndef CAIRN_CXXHASH_SHIM_H
#define CAIRN_CXXHASH_SHIM_H
#include <stddef.h>
#include <stdint.h>
// Inline xxHash so short inputs (keys, record headers) hash without a library call.
// XXH_INLINE_ALL renames the library's symbols through macros, which Swift cannot see,
// so the shim exposes plain wrappers.
#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t cairn_xxh3_64(const void *data, size_t length) {
    return XXH3_64bits(data, length);
}

static inline uint64_t cairn_xxh3_64_seeded(const void *data, size_t length, uint64_t seed) {
    return XXH3_64bits_withSeed(data, length, seed);
}
#endif
