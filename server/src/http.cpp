#include "onegrid/server/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

namespace onegrid::server {
namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::optional<std::string> Reply::find_header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (lower(k) == lower(name)) return v;
    return std::nullopt;
}

std::optional<std::string> url_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int h = hex(s[i + 1]);
            const int l = hex(s[i + 2]);
            if (h < 0 || l < 0) return std::nullopt;
            const char decoded = static_cast<char>(h * 16 + l);
            if (decoded == '\0') return std::nullopt;
            out += decoded;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else if (c == '\0') {
            return std::nullopt;
        } else {
            out += c;
        }
    }
    return out;
}

std::string url_encode(std::string_view s) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == ',' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 0xF];
        }
    }
    return out;
}

std::optional<std::string> Target::param(std::string_view name) const {
    for (const auto& [k, v] : query)
        if (k == name) return v;
    return std::nullopt;
}

void append_query_param(std::string& query, std::string_view name, std::string_view value) {
    if (!query.empty()) query.push_back('&');
    query.append(url_encode(name));
    query.push_back('=');
    query.append(url_encode(value));
}

std::string Target::with(std::string_view name, std::optional<std::string> value) const {
    std::string out;
    auto append = [&out](std::string_view k, std::string_view v) { append_query_param(out, k, v); };
    bool replaced = false;
    for (const auto& [k, v] : query) {
        if (k == name) {
            if (replaced || !value) continue;
            append(k, *value);
            replaced = true;
            continue;
        }
        append(k, v);
    }
    if (!replaced && value) append(name, *value);
    return out;
}

std::optional<Target> parse_target(std::string_view target) {
    if (target.empty() || target.front() != '/') return std::nullopt;
    Target t;
    const auto q = target.find('?');
    auto path = url_decode(target.substr(0, q), false);
    if (!path) return std::nullopt;
    // No traversal: a ".." segment is refused outright.
    for (const auto& seg : segments(*path))
        if (seg == "..") return std::nullopt;
    t.path = std::move(*path);
    if (q != std::string_view::npos) {
        std::string_view qs = target.substr(q + 1);
        while (!qs.empty()) {
            const auto amp = qs.find('&');
            const std::string_view pair = qs.substr(0, amp);
            if (!pair.empty()) {
                const auto eq = pair.find('=');
                auto k = url_decode(pair.substr(0, eq), true);
                auto v = eq == std::string_view::npos ? std::optional<std::string>("") : url_decode(pair.substr(eq + 1), true);
                if (!k || !v) return std::nullopt;
                t.query.emplace_back(std::move(*k), std::move(*v));
            }
            if (amp == std::string_view::npos) break;
            qs.remove_prefix(amp + 1);
        }
    }
    return t;
}

std::vector<std::string> segments(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') {
            if (i > start) out.emplace_back(path.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body) {
    auto t = parse_target("/?" + std::string(body));
    if (!t) return std::nullopt;
    return t->query;
}

Reply json_reply(std::string body, http::status status, std::string content_type) {
    return Reply(status, std::move(content_type), std::move(body));
}

Reply error_reply(http::status status, std::string_view code, std::string_view description) {
    nlohmann::json j;
    j["code"] = code;
    j["description"] = description;
    return json_reply(j.dump(), status);
}

std::optional<std::string> negotiate(std::string_view accept, const std::vector<std::string>& offered) {
    if (offered.empty()) return std::nullopt;
    accept = trim(accept);
    if (accept.empty()) return offered.front();
    struct Range {
        std::string type;
        double q;
        int order;
    };
    std::vector<Range> ranges;
    int order = 0;
    while (!accept.empty()) {
        const auto comma = accept.find(',');
        std::string_view item = trim(accept.substr(0, comma));
        double q = 1.0;
        const auto semi = item.find(';');
        std::string type = lower(trim(item.substr(0, semi)));
        if (semi != std::string_view::npos) {
            std::string_view params = item.substr(semi + 1);
            const auto qpos = params.find("q=");
            if (qpos != std::string_view::npos) {
                std::string_view qv = params.substr(qpos + 2);
                qv = qv.substr(0, qv.find(';'));
                qv = trim(qv);
                double parsed = 1.0;
                const auto res = std::from_chars(qv.data(), qv.data() + qv.size(), parsed);
                if (res.ec == std::errc()) q = parsed;
            }
        }
        if (!type.empty()) ranges.push_back({type, q, order++});
        if (comma == std::string_view::npos) break;
        accept.remove_prefix(comma + 1);
    }
    std::optional<std::string> best;
    double best_q = 0.0;
    int best_specificity = -1;
    int best_rank = 1 << 30;
    for (std::size_t i = 0; i < offered.size(); ++i) {
        const std::string want = lower(offered[i]);
        const std::string major = want.substr(0, want.find('/'));
        for (const auto& r : ranges) {
            int specificity = -1;
            if (r.type == want || r.type == want.substr(0, want.find(';'))) {
                specificity = 2;
            } else if (r.type == major + "/*") {
                specificity = 1;
            } else if (r.type == "*/*") {
                specificity = 0;
            }
            if (specificity < 0 || r.q <= 0.0) continue;
            const int rank = static_cast<int>(i);
            if (r.q > best_q || (r.q == best_q && specificity > best_specificity) ||
                (r.q == best_q && specificity == best_specificity && rank < best_rank)) {
                best = offered[i];
                best_q = r.q;
                best_specificity = specificity;
                best_rank = rank;
            }
        }
    }
    return best;
}

namespace {

// XXH64 (Yann Collet's xxHash, 64-bit): four independent lanes of 8 bytes, so that hashing a
// response costs a small part of writing it (byte-at-a-time hashes are latency-bound).
constexpr std::uint64_t xxp1 = 0x9E3779B185EBCA87ull;
constexpr std::uint64_t xxp2 = 0xC2B2AE3D27D4EB4Full;
constexpr std::uint64_t xxp3 = 0x165667B19E3779F9ull;
constexpr std::uint64_t xxp4 = 0x85EBCA77C2B2AE63ull;
constexpr std::uint64_t xxp5 = 0x27D4EB2F165667C5ull;

constexpr std::uint64_t rotl64(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
std::uint64_t read64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int k = 7; k >= 0; --k) v = (v << 8) | p[k];  // little-endian on any host; compiles to one load
    return v;
}
std::uint32_t read32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 | static_cast<std::uint32_t>(p[2]) << 16 |
           static_cast<std::uint32_t>(p[3]) << 24;
}
constexpr std::uint64_t xxround(std::uint64_t acc, std::uint64_t v) { return rotl64(acc + v * xxp2, 31) * xxp1; }
constexpr std::uint64_t xxmerge(std::uint64_t h, std::uint64_t v) { return (h ^ xxround(0, v)) * xxp1 + xxp4; }

std::uint64_t xxh64(std::string_view bytes, std::uint64_t seed) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const auto* end = p + bytes.size();
    std::uint64_t h = 0;
    if (bytes.size() >= 32) {
        std::uint64_t v1 = seed + xxp1 + xxp2, v2 = seed + xxp2, v3 = seed, v4 = seed - xxp1;
        for (; p + 32 <= end; p += 32) {
            v1 = xxround(v1, read64(p));
            v2 = xxround(v2, read64(p + 8));
            v3 = xxround(v3, read64(p + 16));
            v4 = xxround(v4, read64(p + 24));
        }
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xxmerge(xxmerge(xxmerge(xxmerge(h, v1), v2), v3), v4);
    } else {
        h = seed + xxp5;
    }
    h += bytes.size();
    for (; p + 8 <= end; p += 8) h = rotl64(h ^ xxround(0, read64(p)), 27) * xxp1 + xxp4;
    if (p + 4 <= end) {
        h = rotl64(h ^ (read32(p) * xxp1), 23) * xxp2 + xxp3;
        p += 4;
    }
    for (; p < end; ++p) h = rotl64(h ^ (*p * xxp5), 11) * xxp1;
    h ^= h >> 33;
    h *= xxp2;
    h ^= h >> 29;
    h *= xxp3;
    h ^= h >> 32;
    return h;
}

}  // namespace

std::string etag_of(std::string_view bytes) {
    // XXH64 of the bytes and 32 bits of their length: a strong validator for our own responses.
    const std::uint64_t h1 = xxh64(bytes, 0);
    const std::uint64_t h2 = static_cast<std::uint64_t>(bytes.size()) & 0xffffffffull;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(26, '"');
    for (int k = 0; k < 16; ++k) out[static_cast<std::size_t>(1 + k)] = hex[(h1 >> (60 - 4 * k)) & 0xf];
    for (int k = 0; k < 8; ++k) out[static_cast<std::size_t>(17 + k)] = hex[(h2 >> (28 - 4 * k)) & 0xf];
    return out;
}

bool etag_matches(std::string_view header, std::string_view etag) {
    header = trim(header);
    if (header == "*") return true;
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view item = trim(header.substr(0, comma));
        if (item.rfind("W/", 0) == 0) item.remove_prefix(2);
        if (item == etag) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace onegrid::server
