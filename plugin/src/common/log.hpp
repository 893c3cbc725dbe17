// Logging inside the plugin: a level and a message, delivered to whatever the ABI glue wires up (the host's
// conn_host.log through the token scrubber). Levels have the ABI's numeric values.
#pragma once

#include <functional>
#include <string>

namespace ce {

enum class LogLevel : int { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

using LogFn = std::function<void(LogLevel, const std::string &)>;

}  // namespace ce
