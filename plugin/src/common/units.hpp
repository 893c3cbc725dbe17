// Byte units, for the sizes the config gives in KiB and MiB.
#pragma once

#include <cstddef>

namespace ce {

inline constexpr size_t kKiB = 1024;
inline constexpr size_t kMiB = kKiB * kKiB;

}  // namespace ce
