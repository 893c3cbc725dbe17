// A failed write to the command's output (stdout, a file, a device or a pipe), with the errno that says why:
// EPIPE (the reader went away) ends the command quietly with 141; anything else (ENOSPC, EIO, ...) is exit 12.
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>

namespace connector_host::cli {

class OutputWriteError : public std::runtime_error {
public:
    OutputWriteError(const std::string &what, int error)
        : std::runtime_error(what + ": " + std::strerror(error)), error_(error) {}
    int error() const noexcept { return error_; }

private:
    int error_;
};

}  // namespace connector_host::cli
