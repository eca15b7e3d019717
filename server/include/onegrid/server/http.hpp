#pragma once
/// @file
/// The transport-free HTTP vocabulary of the server: a request as handlers see it, the reply they
/// produce, URL and query parsing, one JSON error format.

#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onegrid::server {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;

/// A reply. The body is shared so that cached bytes (tiles) are sent without copying.
struct Reply {
    http::status status = http::status::ok;
    std::vector<std::pair<std::string, std::string>> headers;
    std::shared_ptr<const std::string> body = std::make_shared<const std::string>();
    /// Not a reply: the handler answers later, through the responder it was given.
    bool deferred = false;

    Reply() = default;
    Reply(http::status s, std::string content_type, std::string b)
        : status(s), body(std::make_shared<const std::string>(std::move(b))) {
        headers.emplace_back("Content-Type", std::move(content_type));
    }
    Reply& header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    [[nodiscard]] std::optional<std::string> find_header(std::string_view name) const;
};

/// The answer to a request whose handler answers later (see Reply::deferred). Call it once,
/// from any thread: `make` runs on the connection's own thread and its reply is sent.
using Responder = std::function<void(std::function<Reply()> make)>;

/// Percent-decoding (with '+' as space for query strings).
[[nodiscard]] std::optional<std::string> url_decode(std::string_view s, bool plus_is_space);
[[nodiscard]] std::string url_encode(std::string_view s);
/// Appends `name=value` (both percent-encoded) to a query string, with '&' when it is not empty.
void append_query_param(std::string& query, std::string_view name, std::string_view value);

/// Path and query of a request target. Query parameters keep their order; repeated names are kept.
struct Target {
    std::string path;  ///< decoded
    std::vector<std::pair<std::string, std::string>> query;  ///< decoded

    [[nodiscard]] std::optional<std::string> param(std::string_view name) const;
    [[nodiscard]] bool has(std::string_view name) const { return param(name).has_value(); }
    /// The query string rebuilt with `name` set to `value` (or removed when value is nullopt).
    [[nodiscard]] std::string with(std::string_view name, std::optional<std::string> value) const;
};

/// Parses "/a/b?x=1&y=2". Returns nullopt for malformed escapes, NUL bytes or ".." segments.
[[nodiscard]] std::optional<Target> parse_target(std::string_view target);

/// Splits a path into its segments ("/a/b/" → {"a", "b"}).
[[nodiscard]] std::vector<std::string> segments(std::string_view path);

/// application/x-www-form-urlencoded body → pairs.
[[nodiscard]] std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body);

/// One error format for the whole server: {"code": "...", "description": "..."} (the OGC API
/// exception schema), with the HTTP status.
[[nodiscard]] Reply error_reply(http::status status, std::string_view code, std::string_view description);

/// JSON reply with the given status.
[[nodiscard]] Reply json_reply(std::string body, http::status status = http::status::ok,
                               std::string content_type = "application/json");

/// The media type the client prefers among `offered` (q-values honoured), or the first offered
/// when the Accept header is absent or matches everything; nullopt when nothing acceptable.
[[nodiscard]] std::optional<std::string> negotiate(std::string_view accept, const std::vector<std::string>& offered);

/// A strong ETag of some bytes ("\"…\"").
[[nodiscard]] std::string etag_of(std::string_view bytes);

/// True when the If-None-Match header of `req` lists `etag` (or "*").
[[nodiscard]] bool etag_matches(std::string_view if_none_match, std::string_view etag);

/// Escapes text for HTML.
[[nodiscard]] std::string html_escape(std::string_view s);

}  // namespace onegrid::server
