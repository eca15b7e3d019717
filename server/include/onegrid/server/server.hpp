#pragma once
/// @file
/// The HTTP transport (Boost.Beast): a listener, sessions with keep-alive, limits and timeouts, a
/// pool for handlers that may block, graceful shutdown, an access log. Everything it serves comes
/// from a transport-free handler `Request → Reply`.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "onegrid/server/http.hpp"

namespace onegrid::server {

struct ServerOptions {
    std::string address = "127.0.0.1";
    unsigned short port = 8080;  ///< 0: an ephemeral port (see HttpServer::port())
    unsigned io_threads = 2;  ///< network threads, each with its own event loop; connections go round them
    unsigned worker_threads = 64;  ///< for handlers that may wait on durable writes
    std::size_t max_body_bytes = 32u << 20;
    std::size_t max_header_bytes = 16u << 10;
    std::chrono::seconds read_timeout{30};
    std::chrono::seconds shutdown_grace{30};
    std::FILE* access_log = stderr;  ///< nullptr: no access log
};

/// The application: answers a request. Must not throw (wrap with catch-all). It may instead keep
/// `later` and return a deferred reply (Reply::deferred), to answer once a durable write is done
/// without holding a thread while it waits.
using Handler = std::function<Reply(const Request& request, const std::string& remote, const Responder& later)>;
/// True for requests whose handler may block (writes): they run on the worker pool.
using Classifier = std::function<bool(const Request& request)>;

class HttpServer {
public:
    HttpServer(ServerOptions options, Handler handler, Classifier blocking);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds and starts the threads; returns at once. @throws std::runtime_error when the address
    /// cannot be bound.
    void start();
    /// Stops accepting, lets requests in flight finish (up to the grace period), then stops.
    void stop();
    /// Blocks until stop() is called, from a signal (SIGINT, SIGTERM) or another thread.
    void wait();
    /// start(), then wait for SIGINT/SIGTERM, then stop().
    void run_until_signal();

    [[nodiscard]] unsigned short port() const noexcept;
    [[nodiscard]] std::uint64_t requests_in_flight() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace onegrid::server
