// Hostile servers the scripted httplib server cannot be (issue 15): a raw HTTP/1.1 server on 127.0.0.1 whose
// bodies the test writes piece by piece (gzip on the wire, paced, endless), counting every request and every body
// byte it managed to write; a gzip writer (zlib); the process's peak RSS (VmHWM) and a way to reset it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rel {

struct RawReq {
    std::string method, target, head;  // head: the request line and headers as received
    std::chrono::steady_clock::time_point received;
};

struct RawReply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // e.g. Content-Encoding: gzip
    std::string body;  // sent as one chunk when `next` is empty
    // When set: called until it returns false, each time appending the next piece of the body to `out` (sent
    // chunked). It may sleep to pace the answer.
    std::function<bool(std::string &out)> next;
};

// Keep-alive connections (chunked answers), GET only; a connection thread each; everything stops in stop() / the destructor (bounded:
// sockets are shut down, sleeps are polled).
class RawServer {
public:
    using Handler = std::function<RawReply(const RawReq &)>;
    explicit RawServer(Handler handler);
    ~RawServer();
    RawServer(const RawServer &) = delete;
    RawServer &operator=(const RawServer &) = delete;
    int port() const;
    std::string origin() const;  // http://127.0.0.1:PORT
    std::string url() const;     // origin + /scim/v2
    std::vector<RawReq> requests() const;
    size_t connections() const;
    uint64_t body_bytes_sent() const;  // body bytes (as on the wire, chunk framing excluded) written so far
    bool stopping() const;
    void stop();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

// gzip (RFC 1952) written in pieces.
class Gzip {
public:
    explicit Gzip(int level = 6);
    ~Gzip();
    Gzip(const Gzip &) = delete;
    Gzip &operator=(const Gzip &) = delete;
    std::string add(std::string_view in);
    // Everything so far, flushed so that the next identical input compresses to identical bytes.
    std::string full_flush(std::string_view in);
    std::string finish();

private:
    std::string run(std::string_view in, int flush);
    struct State;
    std::unique_ptr<State> s_;
};

// Building blocks of a gzip stream written out of order: the 10-byte header, a raw deflate segment compressed on
// its own and ended by a full flush (so segments concatenate into one valid deflate stream, and the same input
// always gives the same bytes), and the end (a final empty block, then CRC-32 and length of everything).
std::string gzip_header();
std::string deflate_segment(std::string_view in);
std::string gzip_end(uint32_t crc, uint64_t length);

// gzip of head + unit x times + tail, compressed as a stream (never the whole input in memory).
std::string gzip_repeat(const std::string &head, const std::string &unit, size_t times, const std::string &tail);

// Peak resident set of this process in KiB (VmHWM), and resetting it to the current RSS (clear_refs 5; false when
// the kernel refuses, then peaks are only comparable as increases).
uint64_t peak_rss_kb();
uint64_t rss_kb();
bool reset_peak_rss();

}  // namespace rel
