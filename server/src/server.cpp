#include "onegrid/server/server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace onegrid::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Access log in the combined-log spirit, buffered: one line per request.
class AccessLog {
public:
    explicit AccessLog(std::FILE* out) : m_out(out) {}
    void write(const std::string& remote, const Request& req, unsigned status, std::size_t bytes,
               std::chrono::microseconds took) {
        if (m_out == nullptr) return;
        char line[1200];
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        char when[32];
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        const std::string target(req.target().substr(0, 800));
        std::snprintf(line, sizeof line, "%s - - [%s] \"%s %s HTTP/%d.%d\" %u %zu %lldus\n", remote.c_str(), when,
                      std::string(req.method_string()).c_str(), target.c_str(), req.version() / 10, req.version() % 10,
                      status, bytes, static_cast<long long>(took.count()));
        std::lock_guard lock(m_mutex);
        std::fputs(line, m_out);
    }
    void flush() {
        if (m_out == nullptr) return;
        std::lock_guard lock(m_mutex);
        std::fflush(m_out);
    }

private:
    std::FILE* m_out;
    std::mutex m_mutex;
};

/// What the server needs of a connection when it stops: to close it.
struct Connection {
    virtual ~Connection() = default;
    virtual void close_now() = 0;
};

}  // namespace

struct HttpServer::Impl {
    ServerOptions options;
    Handler handler;
    Classifier blocking;
    /// One event loop per network thread, as nginx's workers. A connection stays on one loop for
    /// its whole life (new ones go round the loops), so its steps need no strand, and an answer
    /// handed to it from another thread wakes only its own. With all threads on one shared loop,
    /// handlers passed between the threads and woke them: durable intake ran ~10% slower at ~7%
    /// more CPU per report. The price: a slow request delays the connections of its own loop only.
    std::vector<std::unique_ptr<net::io_context>> loops;
    /// Keeps the network threads running while every connection waits on the pool.
    std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
    std::size_t next_loop = 0;  // the loop of the next connection (the acceptor's handler only)
    std::unique_ptr<net::thread_pool> pool;
    tcp::acceptor acceptor;
    std::vector<std::thread> threads;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> in_flight{0};
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    bool started = false;
    AccessLog log;
    std::thread flusher;
    std::mutex connections_mutex;
    std::map<std::uint64_t, std::weak_ptr<Connection>> connections;
    std::uint64_t next_connection = 0;
    /// Deferred replies pass through this gate to the network threads; it closes when they stop.
    struct Gate {
        std::mutex mutex;
        bool open = true;
    };
    std::shared_ptr<Gate> gate = std::make_shared<Gate>();

    Impl(ServerOptions o, Handler h, Classifier b)
        : options(std::move(o)), handler(std::move(h)), blocking(std::move(b)), loops(make_loops(options.io_threads)),
          acceptor(*loops.front()), log(options.access_log) {}

    static std::vector<std::unique_ptr<net::io_context>> make_loops(unsigned threads) {
        std::vector<std::unique_ptr<net::io_context>> out;
        for (unsigned i = 0; i < std::max(1u, threads); ++i) out.push_back(std::make_unique<net::io_context>(1));
        return out;
    }

    void accept();
};

namespace {

// Replies made by the application, never an exception: a failure becomes a 500 reply.
Reply safe_make(const std::function<Reply()>& make) {
    try {
        return make();
    } catch (const std::exception& e) {
        return error_reply(http::status::internal_server_error, "internal", e.what());
    } catch (...) {
        return error_reply(http::status::internal_server_error, "internal", "unknown error");
    }
}

Reply safe_handle(HttpServer::Impl& s, const Request& req, const std::string& remote, const Responder& later) {
    return safe_make([&] { return s.handler(req, remote, later); });
}

class Session : public Connection, public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, HttpServer::Impl& server) : m_stream(std::move(socket)), m_server(server) {
        beast::error_code ec;
        const auto ep = m_stream.socket().remote_endpoint(ec);
        m_remote = ec ? "-" : ep.address().to_string();
        m_stream.socket().set_option(tcp::no_delay(true), ec);
    }
    ~Session() override {
        std::lock_guard lock(m_server.connections_mutex);
        m_server.connections.erase(m_id);
    }

    void run() {
        {
            std::lock_guard lock(m_server.connections_mutex);
            m_id = m_server.next_connection++;
            m_server.connections[m_id] = shared_from_this();
        }
        net::dispatch(m_stream.get_executor(), beast::bind_front_handler(&Session::read, shared_from_this()));
    }

    /// Closes the connection (at shutdown, once no request is in flight): pending reads end.
    void close_now() override {
        net::post(m_stream.get_executor(), [self = shared_from_this()] {
            beast::error_code ec;
            self->m_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
            self->m_stream.socket().close(ec);
        });
    }

private:
    void read() {
        if (m_server.stopping) return close();
        m_parser.emplace();
        m_parser->body_limit(m_server.options.max_body_bytes);
        m_parser->header_limit(static_cast<std::uint32_t>(m_server.options.max_header_bytes));
        m_stream.expires_after(m_server.options.read_timeout);
        http::async_read(m_stream, m_buffer, *m_parser, beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
            ec == net::error::connection_reset || ec == net::error::eof) {
            return close();
        }
        m_started = std::chrono::steady_clock::now();
        if (ec) {
            // The request could not be read: answer once, then close the connection.
            Reply r;
            if (ec == http::error::body_limit) {
                r = error_reply(http::status::payload_too_large, "payload_too_large",
                                "the request body is larger than " + std::to_string(m_server.options.max_body_bytes) + " bytes");
            } else if (ec == http::error::header_limit) {
                r = error_reply(http::status::request_header_fields_too_large, "headers_too_large",
                                "the request headers are larger than " + std::to_string(m_server.options.max_header_bytes) + " bytes");
            } else {
                r = error_reply(http::status::bad_request, "bad_request", "malformed HTTP request: " + ec.message());
            }
            m_request = {};
            m_request.version(11);
            m_close_after = true;
            ++m_server.in_flight;
            return write(std::move(r));
        }
        m_request = m_parser->release();
        m_close_after = !m_request.keep_alive();
        ++m_server.in_flight;
        if (m_server.blocking && m_server.blocking(m_request)) {
            // May wait on a durable write: run it on the pool, answer on this connection's thread.
            net::post(*m_server.pool, [self = shared_from_this()] {
                Reply r = safe_handle(self->m_server, self->m_request, self->m_remote, self->responder());
                if (r.deferred) return;
                net::dispatch(self->m_stream.get_executor(),
                              [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
            });
        } else {
            Reply r = safe_handle(m_server, m_request, m_remote, responder());
            if (!r.deferred) write(std::move(r));
        }
    }

    /// How a handler answers later: the reply is made and sent on this connection's thread.
    Responder responder() {
        return [self = shared_from_this(), gate = m_server.gate](std::function<Reply()> make) {
            std::lock_guard lock(gate->mutex);
            if (!gate->open) return;  // the server has stopped: nobody is left to send it
            net::post(self->m_stream.get_executor(), [self, make = std::move(make)] { self->write(safe_make(make)); });
        };
    }

    void write(Reply reply) {
        m_body = reply.body;
        m_response.emplace();
        auto& res = *m_response;
        res.result(reply.status);
        res.version(m_request.version() == 10 ? 10 : 11);
        res.set(http::field::server, "OneGrid");
        for (auto& [k, v] : reply.headers) res.set(k, v);
        if (m_request.method() == http::verb::head) {
            res.body() = http::span_body<const char>::value_type(m_body->data(), 0);
            res.content_length(m_body->size());
        } else {
            res.body() = http::span_body<const char>::value_type(m_body->data(), m_body->size());
            res.prepare_payload();
        }
        const bool close = m_close_after || m_server.stopping;
        res.keep_alive(!close);
        m_status = static_cast<unsigned>(reply.status);
        http::async_write(m_stream, res, beast::bind_front_handler(&Session::on_write, shared_from_this(), close));
    }

    void on_write(bool close, beast::error_code ec, std::size_t bytes) {
        const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - m_started);
        m_server.log.write(m_remote, m_request, m_status, bytes, took);
        m_response.reset();
        m_body.reset();
        if (--m_server.in_flight == 0 && m_server.stopping) {
            std::lock_guard lock(m_server.done_mutex);
            m_server.done_cv.notify_all();
        }
        if (ec || close) return this->close();
        read();
    }

    /// Lingering close: stop sending, then drain what the client still sends (bounded in time and
    /// bytes) before the socket is closed. Closing with unread input makes the kernel send a reset,
    /// which can destroy the error response the client has not read yet (431, 413, 400).
    void close() {
        beast::error_code ec;
        m_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec || m_server.stopping) return;
        m_drained = 0;
        m_stream.expires_after(std::chrono::seconds(2));
        drain();
    }

    void drain() {
        m_stream.async_read_some(net::buffer(m_drain),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                     self->m_drained += n;
                                     if (ec || self->m_drained > kMaxDrainBytes || self->m_server.stopping) return;
                                     self->drain();
                                 });
    }

    static constexpr std::size_t kMaxDrainBytes = 1 << 20;
    std::array<char, 4096> m_drain{};
    std::size_t m_drained = 0;

    beast::tcp_stream m_stream;
    HttpServer::Impl& m_server;
    beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::string_body>> m_parser;
    Request m_request;
    std::optional<http::response<http::span_body<const char>>> m_response;
    std::shared_ptr<const std::string> m_body;
    std::string m_remote;
    bool m_close_after = false;
    unsigned m_status = 0;
    std::uint64_t m_id = 0;
    std::chrono::steady_clock::time_point m_started;
};

}  // namespace

void HttpServer::Impl::accept() {
    net::io_context& loop = *loops[next_loop++ % loops.size()];
    acceptor.async_accept(loop.get_executor(), [this](beast::error_code ec, tcp::socket socket) {
        if (stopping) return;
        if (!ec) std::make_shared<Session>(std::move(socket), *this)->run();
        accept();
    });
}

HttpServer::HttpServer(ServerOptions options, Handler handler, Classifier blocking)
    : m_impl(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(blocking))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
    Impl& s = *m_impl;
    beast::error_code ec;
    const auto address = net::ip::make_address(s.options.address, ec);
    if (ec) throw std::runtime_error("not an IP address: '" + s.options.address + "'");
    const tcp::endpoint ep(address, s.options.port);
    s.acceptor.open(ep.protocol(), ec);
    if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) s.acceptor.bind(ep, ec);
    if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + s.options.address + ":" + std::to_string(s.options.port) + ": " +
                                 ec.message());
    }
    s.pool = std::make_unique<net::thread_pool>(std::max(1u, s.options.worker_threads));
    for (auto& loop : s.loops) s.work.push_back(net::make_work_guard(*loop));
    s.accept();
    s.started = true;
    for (auto& loop : s.loops) s.threads.emplace_back([&loop = *loop] { loop.run(); });
    s.flusher = std::thread([&s] {
        std::unique_lock lock(s.done_mutex);
        while (!s.done) {
            s.done_cv.wait_for(lock, std::chrono::seconds(1));
            s.log.flush();
        }
    });
}

void HttpServer::stop() {
    Impl& s = *m_impl;
    if (!s.started || s.stopping.exchange(true)) return;
    // Stop accepting; let requests in flight finish and be answered.
    net::post(*s.loops.front(), [&s] {
        beast::error_code ec;
        s.acceptor.close(ec);
    });
    {
        std::unique_lock lock(s.done_mutex);
        s.done_cv.wait_for(lock, s.options.shutdown_grace, [&] { return s.in_flight.load() == 0; });
    }
    // Close the idle keep-alive connections; the network threads then run out of work.
    std::vector<std::shared_ptr<Connection>> open;
    {
        std::lock_guard lock(s.connections_mutex);
        for (auto& [id, weak] : s.connections)
            if (auto c = weak.lock()) open.push_back(std::move(c));
    }
    for (auto& c : open) c->close_now();
    open.clear();
    s.pool->join();
    s.work.clear();
    const auto all_stopped = [&s] {
        return std::all_of(s.loops.begin(), s.loops.end(), [](const auto& loop) { return loop->stopped(); });
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!all_stopped() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    {
        std::lock_guard lock(s.gate->mutex);
        s.gate->open = false;
    }
    for (auto& loop : s.loops) loop->stop();
    for (auto& t : s.threads) t.join();
    s.threads.clear();
    {
        std::lock_guard lock(s.done_mutex);
        s.done = true;
    }
    s.done_cv.notify_all();
    if (s.flusher.joinable()) s.flusher.join();
    s.log.flush();
}

void HttpServer::wait() {
    Impl& s = *m_impl;
    std::unique_lock lock(s.done_mutex);
    s.done_cv.wait(lock, [&] { return s.done || s.stopping.load(); });
}

void HttpServer::run_until_signal() {
    start();
    net::io_context signals_ctx;
    net::signal_set signals(signals_ctx, SIGINT, SIGTERM);
    signals.async_wait([](const beast::error_code&, int) {});
    signals_ctx.run();  // returns once a signal arrived
    stop();
}

unsigned short HttpServer::port() const noexcept { return m_impl->acceptor.is_open() ? m_impl->acceptor.local_endpoint().port() : 0; }

std::uint64_t HttpServer::requests_in_flight() const noexcept { return m_impl->in_flight.load(); }

}  // namespace onegrid::server
