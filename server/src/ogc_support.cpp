#include "ogc_support.hpp"

#include <charconv>
#include <cmath>

namespace onegrid::server::ogc {

const std::vector<Crs>& supported_crs() {
    static const std::vector<Crs> list = {
        {crs84, "", false, false},
        {"http://www.opengis.net/def/crs/EPSG/0/4490", "", true, false},
        {"http://www.opengis.net/def/crs/EPSG/0/4326", "", true, false},
        {"http://www.opengis.net/def/crs/EPSG/0/3857", "EPSG:3857", false, true},
        {"http://www.opengis.net/def/crs/EPSG/0/4549", "EPSG:4549", true, true},
    };
    return list;
}

std::optional<Crs> find_crs(const std::string& uri) {
    std::string u = uri;
    if (u.rfind("EPSG:", 0) == 0) u = "http://www.opengis.net/def/crs/EPSG/0/" + u.substr(5);
    if (u == "CRS84" || u == "OGC:CRS84") u = crs84;
    if (u.size() > 2 && u.front() == '[' && u.back() == ']') u = u.substr(1, u.size() - 2);  // safe CURIE
    for (const auto& c : supported_crs())
        if (c.uri == u) return c;
    return std::nullopt;
}

CrsConverter::CrsConverter(const Crs& crs) : m_crs(crs) {
    if (!crs.proj.empty()) {
        m_to.emplace(spatial::storage_crs, crs.proj);
        m_from.emplace(crs.proj, spatial::storage_crs);
    }
}

spatial::Point CrsConverter::out(spatial::Point p) const {
    if (m_to) p = m_to->apply(p);
    return m_crs.swap ? spatial::Point{p.y, p.x} : p;
}

spatial::Point CrsConverter::in(double first, double second) const {
    spatial::Point p = m_crs.swap ? spatial::Point{second, first} : spatial::Point{first, second};
    return m_from ? m_from->apply(p) : p;
}

namespace {
std::optional<double> number(std::string_view s) {
    double v = 0;
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<std::size_t> whole(const std::string& s) {
    std::size_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}
}  // namespace

std::size_t parse_limit(const Target& t, std::size_t dflt, std::size_t max) {
    const auto v = t.param("limit");
    if (!v) return dflt;
    const auto n = whole(*v);
    if (!n || *n == 0) throw bad_parameter("limit must be a positive integer, not '" + *v + "'");
    return std::min(*n, max);
}

std::size_t parse_offset(const Target& t) {
    const auto v = t.param("offset");
    if (!v) return 0;
    const auto n = whole(*v);
    if (!n) throw bad_parameter("offset must be a non-negative integer, not '" + *v + "'");
    return *n;
}

std::optional<spatial::Box> parse_bbox(const Target& t) {
    const auto v = t.param("bbox");
    const auto crs_param = t.param("bbox-crs");
    if (!v) {
        if (crs_param) throw bad_parameter("bbox-crs given without bbox");
        return std::nullopt;
    }
    std::vector<double> n;
    std::string_view s = *v;
    while (true) {
        const auto comma = s.find(',');
        const auto x = number(s.substr(0, comma));
        if (!x) throw bad_parameter("bbox must be 4 or 6 comma-separated numbers, not '" + *v + "'");
        n.push_back(*x);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    if (n.size() != 4 && n.size() != 6) throw bad_parameter("bbox must have 4 or 6 numbers, not " + std::to_string(n.size()));
    const std::size_t k = n.size() / 2;
    Crs crs = *find_crs(crs84);
    if (crs_param) {
        const auto c = find_crs(*crs_param);
        if (!c) throw bad_parameter("bbox-crs '" + *crs_param + "' is not supported");
        crs = *c;
    }
    const CrsConverter conv(crs);
    const spatial::Point a = conv.in(n[0], n[1]);
    const spatial::Point b = conv.in(n[k], n[k + 1]);
    spatial::Box box{std::min(a.x, b.x), std::min(a.y, b.y), std::max(a.x, b.x), std::max(a.y, b.y)};
    if (!crs.projected) {
        const double lon0 = crs.swap ? n[1] : n[0];
        const double lon1 = crs.swap ? n[k + 1] : n[k];
        const double lat0 = crs.swap ? n[0] : n[1];
        const double lat1 = crs.swap ? n[k] : n[k + 1];
        if (lat0 < -90 || lat1 > 90 || lat0 > lat1 || lon0 < -180 || lon1 > 180) {
            throw bad_parameter("bbox '" + *v + "' is outside the range of its coordinate system or inverted");
        }
        if (lon0 > lon1) throw bad_parameter("bbox crossing the antimeridian is not supported here");
    }
    return box;
}

std::optional<Interval> parse_datetime(const Target& t) {
    const auto v = t.param("datetime");
    if (!v) return std::nullopt;
    auto instant = [&](std::string s, bool end_of_day) -> std::optional<core::Timestamp> {
        if (s.empty() || s == "..") return std::nullopt;
        if (s.size() == 11 && s.back() == 'T') s.pop_back();  // GDAL 3.6 sends dates as "2020-01-05T"
        const auto ms = core::parse_iso8601(s);
        if (!ms) throw bad_parameter("datetime '" + *v + "' is not an RFC 3339 date-time or interval");
        if (s.size() == 10 && end_of_day) return *ms + core::ms_per_day - 1;
        return *ms;
    };
    const auto slash = v->find('/');
    Interval out;
    if (slash == std::string::npos) {
        out.from = instant(*v, false);
        out.to = instant(*v, true);
        if (!out.from) throw bad_parameter("datetime '" + *v + "' is not an RFC 3339 date-time or interval");
        if (v->size() > 10) out.to = out.from;  // an instant
        return out;
    }
    out.from = instant(v->substr(0, slash), false);
    out.to = instant(v->substr(slash + 1), true);
    if (out.from && out.to && *out.from > *out.to) throw bad_parameter("datetime interval '" + *v + "' ends before it starts");
    return out;
}

Crs output_crs(const Target& t) {
    const auto v = t.param("crs");
    if (!v) return *find_crs(crs84);
    const auto c = find_crs(*v);
    if (!c) throw bad_parameter("crs '" + *v + "' is not supported (see the collection's crs list)");
    return *c;
}

void check_parameters(const Target& t, const std::vector<std::string>& allowed) {
    for (const auto& [k, v] : t.query) {
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
            throw bad_parameter("unknown query parameter '" + k + "'");
        }
    }
}

void write_point(detail::JsonWriter& w, spatial::Point p, const CrsConverter& c) {
    const spatial::Point o = c.out(p);
    w.begin_object().key("type").value("Point").key("coordinates").coordinate(o.x, o.y, !c.projected()).end_object();
}

void write_polygon(detail::JsonWriter& w, const spatial::MultiPolygon& mp, const CrsConverter& c) {
    auto ring = [&](const spatial::Ring& r) {
        w.begin_array();
        for (std::size_t i = 0; i <= r.size(); ++i) {
            const spatial::Point o = c.out(r[i % r.size()]);
            w.coordinate(o.x, o.y, !c.projected());
        }
        w.end_array();
    };
    w.begin_object().key("type").value("MultiPolygon").key("coordinates").begin_array();
    for (const auto& poly : mp) {
        w.begin_array();
        ring(poly.shell);
        for (const auto& h : poly.holes) ring(h);
        w.end_array();
    }
    w.end_array().end_object();
}

Reply with_etag(const Request& req, Reply reply) {
    if (reply.status != http::status::ok) return reply;
    const std::string etag = etag_of(*reply.body);
    const auto inm = req.find(http::field::if_none_match);
    if (inm != req.end() && etag_matches(std::string_view(inm->value().data(), inm->value().size()), etag)) {
        Reply not_modified;
        not_modified.status = http::status::not_modified;
        not_modified.header("ETag", etag);
        for (const auto& [k, v] : reply.headers)
            if (k == "Content-Crs" || k == "Cache-Control") not_modified.header(k, v);
        return not_modified;
    }
    reply.header("ETag", etag);
    return reply;
}

std::optional<std::string> format(const Call& call, bool features) {
    const std::string json = features ? "application/geo+json" : "application/json";
    if (const auto f = call.target.param("f")) {
        if (*f == "json" || *f == "geojson") return json;
        if (*f == "html") return std::string("text/html");
        throw bad_parameter("f must be json or html, not '" + *f + "'");
    }
    const auto accept = call.req.find(http::field::accept);
    const std::string a = accept != call.req.end() ? std::string(accept->value()) : "";
    return negotiate(a, {json, "application/json", "text/html"}) .value_or(json) == "text/html" ? std::optional<std::string>("text/html")
                                                                                                : std::optional<std::string>(json);
}

std::string page_href(const Call& call, std::size_t offset, std::size_t limit) {
    // The request's parameters in their order with `offset` and `limit` set (each once, in place
    // when given, else appended in that order).
    const std::string offset_text = std::to_string(offset);
    const std::string limit_text = std::to_string(limit);
    std::string q;
    auto append = [&q](std::string_view k, std::string_view v) { append_query_param(q, k, v); };
    bool has_offset = false;
    bool has_limit = false;
    for (const auto& [k, v] : call.target.query) {
        if (k == "offset") {
            if (!has_offset) append(k, offset_text);
            has_offset = true;
        } else if (k == "limit") {
            if (!has_limit) append(k, limit_text);
            has_limit = true;
        } else {
            append(k, v);
        }
    }
    if (!has_offset) append("offset", offset_text);
    if (!has_limit) append("limit", limit_text);
    return call.base + url_encode(call.target.path) + "?" + q;
}

}  // namespace onegrid::server::ogc
