#include "rel_raw_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace rel {

struct RawServer::Impl {
    Handler handler;
    int listen_fd = -1;
    int port = 0;
    std::atomic<bool> stopping{false};
    std::atomic<uint64_t> sent{0};
    std::atomic<size_t> connections{0};
    mutable std::mutex mu;
    std::vector<RawReq> requests;
    std::vector<std::thread> threads;
    std::vector<int> fds;  // open connections, shut down by stop()
    std::thread acceptor;

    // Waits until fd is ready for `events` or the server stops (false then).
    bool wait(int fd, short events) const {
        while (!stopping.load()) {
            pollfd p{fd, events, 0};
            const int n = ::poll(&p, 1, 50);
            if (n > 0) return (p.revents & (POLLERR | POLLNVAL)) == 0 || (p.revents & events) != 0;
            if (n < 0 && errno != EINTR) return false;
        }
        return false;
    }
    bool send_all(int fd, std::string_view data, bool body) {
        while (!data.empty()) {
            if (!wait(fd, POLLOUT)) return false;
            const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            if (body) sent += static_cast<uint64_t>(n);
            data.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }
    bool send_chunk(int fd, std::string_view piece) {
        if (piece.empty()) return true;
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        return send_all(fd, size, false) && send_all(fd, piece, true) && send_all(fd, "\r\n", false);
    }
    bool read_head(int fd, std::string &head) const {
        char buf[4096];
        while (head.find("\r\n\r\n") == std::string::npos) {
            if (head.size() > 65536 || !wait(fd, POLLIN)) return false;
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return false;
            head.append(buf, static_cast<size_t>(n));
        }
        return true;
    }
    // Answers requests on one connection (keep-alive) until the client closes it or an answer breaks off.
    void serve(int fd) {
        std::string buffered;
        while (serve_one(fd, buffered)) {
        }
    }
    bool serve_one(int fd, std::string &head) {
        if (!read_head(fd, head)) return false;
        const size_t end = head.find("\r\n\r\n");
        RawReq req;
        const size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
        req.method = head.substr(0, sp1);
        req.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
        req.head = head.substr(0, end);
        req.received = std::chrono::steady_clock::now();
        head.erase(0, end + 4);  // GET only: no request body follows
        {
            std::lock_guard<std::mutex> lock(mu);
            requests.push_back(req);
        }
        RawReply reply = handler(req);
        std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " Hostile\r\n";
        bool has_type = false;
        for (const auto &[k, v] : reply.headers) {
            out += k + ": " + v + "\r\n";
            has_type = has_type || k == "Content-Type";
        }
        if (!has_type) out += "Content-Type: application/scim+json\r\n";
        out += "Transfer-Encoding: chunked\r\n\r\n";
        if (!send_all(fd, out, false)) return false;
        if (!reply.next) return send_chunk(fd, reply.body) && send_all(fd, "0\r\n\r\n", false);
        std::string piece;
        for (bool more = true; more && !stopping.load();) {
            piece.clear();
            more = reply.next(piece);
            if (!send_chunk(fd, piece)) return false;
        }
        return send_all(fd, "0\r\n\r\n", false);
    }
    void accept_loop() {
        while (wait(listen_fd, POLLIN)) {
            const int fd = ::accept(listen_fd, nullptr, nullptr);
            if (fd < 0) continue;
            ++connections;
            std::lock_guard<std::mutex> lock(mu);
            fds.push_back(fd);
            threads.emplace_back([this, fd] {
                serve(fd);
                ::shutdown(fd, SHUT_RDWR);
            });
        }
    }
};

RawServer::RawServer(Handler handler) : impl_(std::make_shared<Impl>()) {
    impl_->handler = std::move(handler);
    impl_->listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (impl_->listen_fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(impl_->listen_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
        ::listen(impl_->listen_fd, 64) != 0 ||
        ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
        ::close(impl_->listen_fd);
        throw std::runtime_error("the raw server could not listen on 127.0.0.1");
    }
    impl_->port = ntohs(a.sin_port);
    impl_->acceptor = std::thread([impl = impl_.get()] { impl->accept_loop(); });
}

RawServer::~RawServer() { stop(); }

void RawServer::stop() {
    Impl &i = *impl_;
    if (i.stopping.exchange(true)) return;
    if (i.acceptor.joinable()) i.acceptor.join();
    std::vector<std::thread> threads;
    {
        std::lock_guard<std::mutex> lock(i.mu);
        for (int fd : i.fds) ::shutdown(fd, SHUT_RDWR);
        threads.swap(i.threads);
    }
    for (auto &t : threads) t.join();
    for (int fd : i.fds) ::close(fd);
    ::close(i.listen_fd);
}

int RawServer::port() const { return impl_->port; }
std::string RawServer::origin() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }
std::string RawServer::url() const { return origin() + "/scim/v2"; }
std::vector<RawReq> RawServer::requests() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->requests;
}
size_t RawServer::connections() const { return impl_->connections.load(); }
uint64_t RawServer::body_bytes_sent() const { return impl_->sent.load(); }
bool RawServer::stopping() const { return impl_->stopping.load(); }

// ---- gzip ----------------------------------------------------------------------------------------------------

struct Gzip::State {
    z_stream z{};
};

Gzip::Gzip(int level) : s_(std::make_unique<State>()) {
    // 16 + 15: a gzip wrapper around a 32 KiB window.
    if (deflateInit2(&s_->z, level, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
}

Gzip::~Gzip() { deflateEnd(&s_->z); }

std::string Gzip::run(std::string_view in, int flush) {
    std::string out;
    z_stream &z = s_->z;
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    char buf[65536];
    int rc = Z_OK;
    do {
        z.next_out = reinterpret_cast<Bytef *>(buf);
        z.avail_out = sizeof buf;
        rc = deflate(&z, flush);
        if (rc == Z_STREAM_ERROR) throw std::runtime_error("deflate failed");
        out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return out;
}

std::string Gzip::add(std::string_view in) { return run(in, Z_NO_FLUSH); }
std::string Gzip::full_flush(std::string_view in) { return run(in, Z_FULL_FLUSH); }
std::string Gzip::finish() { return run({}, Z_FINISH); }

std::string gzip_header() { return std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10); }

std::string deflate_segment(std::string_view in) {
    z_stream z{};
    if (deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2 failed");
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char buf[65536];
    do {
        z.next_out = reinterpret_cast<Bytef *>(buf);
        z.avail_out = sizeof buf;
        deflate(&z, Z_FULL_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
    deflateEnd(&z);
    return out;
}

std::string gzip_end(uint32_t crc, uint64_t length) {
    std::string out("\x03\x00", 2);  // a final, empty block with fixed codes
    for (int i = 0; i < 4; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xff);
    for (int i = 0; i < 4; ++i) out += static_cast<char>((length >> (8 * i)) & 0xff);
    return out;
}

std::string gzip_repeat(const std::string &head, const std::string &unit, size_t times, const std::string &tail) {
    Gzip gz(6);
    std::string out = gz.add(head);
    // Units in blocks of about 1 MiB: fewer calls, bounded input.
    std::string block;
    const size_t per_block = std::max<size_t>(1, (1u << 20) / std::max<size_t>(1, unit.size()));
    for (size_t k = 0; k < per_block; ++k) block += unit;
    size_t left = times;
    while (left >= per_block) {
        out += gz.add(block);
        left -= per_block;
    }
    for (; left > 0; --left) out += gz.add(unit);
    out += gz.add(tail);
    return out + gz.finish();
}

// ---- memory --------------------------------------------------------------------------------------------------

namespace {
uint64_t status_kb(const char *key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const size_t n = std::strlen(key);
    while (std::getline(in, line))
        if (line.compare(0, n, key) == 0) return std::stoull(line.substr(n + 1));
    return 0;
}
}  // namespace

uint64_t peak_rss_kb() { return status_kb("VmHWM"); }
uint64_t rss_kb() { return status_kb("VmRSS"); }
bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

}  // namespace rel
