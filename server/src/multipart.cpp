#include "multipart.hpp"

#include <algorithm>
#include <cctype>

namespace onegrid::server::detail {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// The value of `key=` in a header like `form-data; name="photo"; filename="a.jpg"`.
std::string param(std::string_view header, std::string_view key) {
    const std::string h = lower(header);
    const std::string k = std::string(key) + "=";
    std::size_t pos = 0;
    while ((pos = h.find(k, pos)) != std::string::npos) {
        const bool boundary_ok = pos == 0 || h[pos - 1] == ';' || h[pos - 1] == ' ';
        if (!boundary_ok) {
            pos += k.size();
            continue;
        }
        std::size_t start = pos + k.size();
        if (start < header.size() && header[start] == '"') {
            const auto end = header.find('"', start + 1);
            if (end == std::string_view::npos) return {};
            return std::string(header.substr(start + 1, end - start - 1));
        }
        const auto end = header.find(';', start);
        return std::string(trim(header.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    }
    return {};
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    if (lower(content_type).rfind("multipart/form-data", 0) != 0) return std::nullopt;
    std::string b = param(content_type, "boundary");
    if (b.empty() || b.size() > 200) return std::nullopt;
    return b;
}

std::vector<Part> parse_multipart(std::string_view body, const std::string& boundary, std::size_t max_parts) {
    const std::string delim = "--" + boundary;
    std::vector<Part> parts;
    std::size_t pos = body.find(delim);
    if (pos == std::string_view::npos) throw multipart_error("the body does not start with the multipart boundary");
    pos += delim.size();
    while (true) {
        if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
        if (body.substr(pos, 2) != "\r\n") throw multipart_error("malformed multipart delimiter line");
        pos += 2;
        const auto headers_end = body.find("\r\n\r\n", pos);
        if (headers_end == std::string_view::npos) throw multipart_error("a part has no header end");
        Part part;
        std::string_view headers = body.substr(pos, headers_end - pos);
        while (!headers.empty()) {
            const auto eol = headers.find("\r\n");
            const std::string_view line = headers.substr(0, eol);
            const auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                const std::string name = lower(trim(line.substr(0, colon)));
                const std::string_view value = trim(line.substr(colon + 1));
                if (name == "content-disposition") {
                    part.name = param(value, "name");
                    part.filename = param(value, "filename");
                } else if (name == "content-type") {
                    part.content_type = std::string(value);
                }
            }
            if (eol == std::string_view::npos) break;
            headers.remove_prefix(eol + 2);
        }
        const std::size_t start = headers_end + 4;
        const auto next = body.find("\r\n" + delim, start);
        if (next == std::string_view::npos) throw multipart_error("a part is not terminated by the boundary");
        part.body = body.substr(start, next - start);
        if (part.name.empty()) throw multipart_error("a part has no name");
        parts.push_back(part);
        if (parts.size() > max_parts) throw multipart_error("more than " + std::to_string(max_parts) + " parts");
        pos = next + 2 + delim.size();
    }
}

}  // namespace onegrid::server::detail
