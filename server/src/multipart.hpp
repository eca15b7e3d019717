#pragma once
// multipart/form-data (RFC 7578) bodies: the photo uploads of intake and transitions.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace onegrid::server::detail {

struct Part {
    std::string name;
    std::string filename;  ///< empty for plain fields
    std::string content_type;
    std::string_view body;  ///< points into the request body
};

struct multipart_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The boundary of a multipart Content-Type, or nullopt when the type is not multipart/form-data.
[[nodiscard]] std::optional<std::string> multipart_boundary(std::string_view content_type);

/// Splits a body into its parts. @throws multipart_error for a malformed body or too many parts.
[[nodiscard]] std::vector<Part> parse_multipart(std::string_view body, const std::string& boundary, std::size_t max_parts = 32);

}  // namespace onegrid::server::detail
