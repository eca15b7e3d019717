#pragma once
// A small streaming JSON writer for the hot paths (GeoJSON feature collections): appends straight
// into one string, numbers with std::to_chars (shortest round-trip), no intermediate DOM.

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "onegrid/core/time.hpp"

namespace onegrid::server::detail {

class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : m_out(out) {}
    /// Continues an object already begun in `out` with at least one member: the next key gets a
    /// comma, and end_object() closes it.
    static constexpr struct ContinuingObject {
    } continuing_object{};
    JsonWriter(std::string& out, ContinuingObject) : m_out(out), m_first(false), m_depth(1) {}

    JsonWriter& begin_object() { return sep().raw('{').push(); }
    JsonWriter& end_object() { return pop().raw('}'); }
    JsonWriter& begin_array() { return sep().raw('[').push(); }
    JsonWriter& end_array() { return pop().raw(']'); }

    /// A member name; the next value belongs to it.
    JsonWriter& key(std::string_view k) {
        sep();
        string_raw(k);
        m_out += ':';
        m_after_key = true;
        return *this;
    }
    /// A member name given as a string literal: written as it is (the literals of the code need no
    /// escaping), in one append.
    template <std::size_t N>
    JsonWriter& key(const char (&literal)[N]) {
        static_assert(N >= 1 && N <= 64, "a member name literal");
        assert(std::string_view(literal, N - 1).find_first_of("\"\\") == std::string_view::npos);
        sep();
        char buf[N + 2];
        buf[0] = '"';
        std::memcpy(buf + 1, literal, N - 1);
        buf[N] = '"';
        buf[N + 1] = ':';
        m_out.append(buf, N + 2);
        m_after_key = true;
        return *this;
    }
    /// A time as an RFC 3339 string (core::format_iso8601), without a temporary.
    JsonWriter& timestamp(core::Timestamp t) {
        sep();
        char buf[core::iso8601_max + 2];
        buf[0] = '"';
        const std::size_t n = core::format_iso8601(t, buf + 1);
        buf[n + 1] = '"';
        m_out.append(buf, n + 2);
        return *this;
    }
    JsonWriter& value(std::string_view s) {
        sep();
        string_raw(s);
        return *this;
    }
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    JsonWriter& value(double d) {
        sep();
        if (!std::isfinite(d)) {
            m_out += "null";
            return *this;
        }
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, d);
        m_out.append(buf, r.ptr);
        return *this;
    }
    JsonWriter& value(std::int64_t v) {
        sep();
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        m_out.append(buf, r.ptr);
        return *this;
    }
    JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
    JsonWriter& value(bool b) {
        sep();
        m_out += b ? "true" : "false";
        return *this;
    }
    JsonWriter& null() {
        sep();
        m_out += "null";
        return *this;
    }
    /// Already-serialised JSON.
    JsonWriter& raw_value(std::string_view json) {
        sep();
        m_out += json;
        return *this;
    }
    /// A coordinate pair, fixed to 9 decimals when `fixed` (sub-millimetre for degrees).
    JsonWriter& coordinate(double a, double b, bool fixed_degrees) {
        sep();
        m_out += '[';
        number(a, fixed_degrees);
        m_out += ',';
        number(b, fixed_degrees);
        m_out += ']';
        return *this;
    }

private:
    JsonWriter& raw(char c) {
        m_out += c;
        return *this;
    }
    JsonWriter& push() {
        m_first = true;
        ++m_depth;
        return *this;
    }
    JsonWriter& pop() {
        m_first = false;
        --m_depth;
        return *this;
    }
    JsonWriter& sep() {
        if (m_after_key) {
            m_after_key = false;
            return *this;
        }
        if (!m_first && m_depth > 0) m_out += ',';
        m_first = false;
        return *this;
    }
    void number(double d, bool fixed) {
        char buf[40];
        auto r = fixed ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 9)
                       : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 3);
        // Trim trailing zeros of the fraction.
        char* end = r.ptr;
        char* dot = std::find(buf, end, '.');
        if (dot != end) {
            while (end > dot + 1 && end[-1] == '0') --end;
            if (end == dot + 1) end = dot;
        }
        m_out.append(buf, end);
    }
    /// True when one of the 8 bytes of `x` is a control character, '"' or '\\' (bytes of UTF-8
    /// sequences, 0x80 and above, are not).
    static bool needs_escape8(std::uint64_t x) noexcept {
        constexpr std::uint64_t ones = 0x0101010101010101ULL;
        constexpr std::uint64_t highs = 0x8080808080808080ULL;
        const auto has_zero = [](std::uint64_t v) { return ((v - ones) & ~v & highs) != 0; };
        const bool control = ((x - ones * 0x20) & ~x & highs) != 0;
        return control || has_zero(x ^ (ones * '"')) || has_zero(x ^ (ones * '\\'));
    }

    void string_raw(std::string_view s) {
        m_out += '"';
        // Runs of characters that need no escape are appended whole (most strings are one run);
        // the clean prefix is found eight bytes at a time.
        std::size_t start = 0;
        while (start + 8 <= s.size()) {
            std::uint64_t x;
            std::memcpy(&x, s.data() + start, 8);
            if (needs_escape8(x)) break;
            start += 8;
        }
        std::size_t run = 0;
        for (std::size_t i = start; i < s.size(); ++i) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c >= 0x20 && c != '"' && c != '\\') continue;
            m_out.append(s.data() + run, i - run);
            run = i + 1;
            switch (c) {
                case '"': m_out += "\\\""; break;
                case '\\': m_out += "\\\\"; break;
                case '\n': m_out += "\\n"; break;
                case '\r': m_out += "\\r"; break;
                case '\t': m_out += "\\t"; break;
                default:
                    if (c < 0x20) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\u%04x", c);
                        m_out += buf;
                    }
            }
        }
        m_out.append(s.data() + run, s.size() - run);
        m_out += '"';
    }

    std::string& m_out;
    bool m_first = true;
    bool m_after_key = false;
    int m_depth = 0;
};

}  // namespace onegrid::server::detail
