#include "cql2.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <mutex>

#include "onegrid/core/time.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::server::cql2 {
namespace {

// ---- GEOS for literals ----------------------------------------------------------------------------

struct Prepared {
    spatial::GeosContext ctx;
    spatial::GeosGeometryPtr geom;
    const GEOSPreparedGeometry* prep = nullptr;
    std::mutex mutex;  // GEOS contexts are not thread-safe; a filter may be evaluated concurrently
    ~Prepared() {
        if (prep != nullptr) GEOSPreparedGeom_destroy_r(ctx.handle(), prep);
    }
};

// ---- lexer ----------------------------------------------------------------------------------------

enum class Tok { end, ident, quoted_ident, string, number, lparen, rparen, comma, op };

struct Token {
    Tok kind = Tok::end;
    std::string text;  // identifiers upper-cased in `upper`
    std::string upper;
    double number = 0;
    std::size_t pos = 0;
};

class Lexer {
public:
    explicit Lexer(const std::string& s) : m_s(s) { advance(); }
    const Token& peek() const { return m_tok; }
    Token take() {
        Token t = m_tok;
        advance();
        return t;
    }
    [[noreturn]] void fail(const std::string& what) const {
        throw filter_error("filter: " + what + " at position " + std::to_string(m_tok.pos + 1));
    }

private:
    void advance() {
        while (m_i < m_s.size() && std::isspace(static_cast<unsigned char>(m_s[m_i]))) ++m_i;
        m_tok = Token{};
        m_tok.pos = m_i;
        if (m_i >= m_s.size()) return;
        const char c = m_s[m_i];
        if (c == '(') return single(Tok::lparen);
        if (c == ')') return single(Tok::rparen);
        if (c == ',') return single(Tok::comma);
        if (c == '\'') {
            std::string v;
            ++m_i;
            while (true) {
                if (m_i >= m_s.size()) fail("unterminated string");
                if (m_s[m_i] == '\'') {
                    if (m_i + 1 < m_s.size() && m_s[m_i + 1] == '\'') {
                        v += '\'';
                        m_i += 2;
                        continue;
                    }
                    ++m_i;
                    break;
                }
                v += m_s[m_i++];
            }
            m_tok.kind = Tok::string;
            m_tok.text = v;
            return;
        }
        if (c == '"') {
            const auto end = m_s.find('"', m_i + 1);
            if (end == std::string::npos) fail("unterminated quoted identifier");
            m_tok.kind = Tok::quoted_ident;
            m_tok.text = m_s.substr(m_i + 1, end - m_i - 1);
            m_i = end + 1;
            return;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+' || c == '.') && m_i + 1 < m_s.size() &&
                                                            (std::isdigit(static_cast<unsigned char>(m_s[m_i + 1])) || m_s[m_i + 1] == '.'))) {
            std::size_t j = m_i + 1;
            while (j < m_s.size() && (std::isdigit(static_cast<unsigned char>(m_s[j])) || m_s[j] == '.' || m_s[j] == 'e' ||
                                      m_s[j] == 'E' || ((m_s[j] == '-' || m_s[j] == '+') && (m_s[j - 1] == 'e' || m_s[j - 1] == 'E')))) {
                ++j;
            }
            const std::string num = m_s.substr(m_i + (c == '+' ? 1 : 0), j - m_i - (c == '+' ? 1 : 0));
            double v = 0;
            const auto r = std::from_chars(num.data(), num.data() + num.size(), v);
            if (r.ec != std::errc() || r.ptr != num.data() + num.size()) fail("malformed number '" + num + "'");
            m_tok.kind = Tok::number;
            m_tok.number = v;
            m_tok.text = num;
            m_i = j;
            return;
        }
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
            std::size_t j = m_i;
            while (j < m_s.size() && (std::isalnum(static_cast<unsigned char>(m_s[j])) || m_s[j] == '_' || m_s[j] == '.' ||
                                      m_s[j] == ':' || static_cast<unsigned char>(m_s[j]) >= 0x80)) {
                ++j;
            }
            m_tok.kind = Tok::ident;
            m_tok.text = m_s.substr(m_i, j - m_i);
            m_tok.upper = m_tok.text;
            std::transform(m_tok.upper.begin(), m_tok.upper.end(), m_tok.upper.begin(),
                           [](unsigned char ch) { return std::toupper(ch); });
            m_i = j;
            return;
        }
        for (const char* op : {"<>", "<=", ">=", "=", "<", ">"}) {
            const std::string o(op);
            if (m_s.compare(m_i, o.size(), o) == 0) {
                m_tok.kind = Tok::op;
                m_tok.text = o;
                m_i += o.size();
                return;
            }
        }
        fail(std::string("unexpected character '") + c + "'");
    }
    void single(Tok k) {
        m_tok.kind = k;
        m_tok.text = std::string(1, m_s[m_i]);
        ++m_i;
    }

    const std::string& m_s;
    std::size_t m_i = 0;
    Token m_tok;
};

// ---- AST ------------------------------------------------------------------------------------------

struct Operand {
    enum class Kind { property, literal } kind = Kind::literal;
    std::string property;
    Value literal;
    [[nodiscard]] Value get(const Feature& f) const { return kind == Kind::property ? f.property(property) : literal; }
};

std::optional<int> compare(const Value& a, const Value& b) {
    if (std::holds_alternative<std::monostate>(a) || std::holds_alternative<std::monostate>(b)) return std::nullopt;
    auto as_number = [](const Value& v) -> std::optional<double> {
        if (auto d = std::get_if<double>(&v)) return *d;
        if (auto s = std::get_if<std::string>(&v)) {
            double x = 0;
            const auto r = std::from_chars(s->data(), s->data() + s->size(), x);
            if (r.ec == std::errc() && r.ptr == s->data() + s->size()) return x;
        }
        return std::nullopt;
    };
    if (auto ta = std::get_if<Time>(&a)) {
        if (auto tb = std::get_if<Time>(&b)) return (ta->ms > tb->ms) - (ta->ms < tb->ms);
        return std::nullopt;
    }
    if (auto sa = std::get_if<std::string>(&a)) {
        if (auto sb = std::get_if<std::string>(&b)) return sa->compare(*sb) < 0 ? -1 : sa->compare(*sb) > 0 ? 1 : 0;
    }
    if (auto ba = std::get_if<bool>(&a)) {
        if (auto bb = std::get_if<bool>(&b)) return static_cast<int>(*ba) - static_cast<int>(*bb);
        return std::nullopt;
    }
    const auto na = as_number(a);
    const auto nb = as_number(b);
    if (na && nb) return (*na > *nb) - (*na < *nb);
    return std::nullopt;
}

struct Comparison : Expression {
    Operand left;
    Operand right;
    std::string op;
    std::optional<bool> evaluate(const Feature& f) const override {
        const auto c = compare(left.get(f), right.get(f));
        if (!c) return std::nullopt;
        if (op == "=") return *c == 0;
        if (op == "<>") return *c != 0;
        if (op == "<") return *c < 0;
        if (op == "<=") return *c <= 0;
        if (op == ">") return *c > 0;
        return *c >= 0;
    }
};

struct Logical : Expression {
    bool is_and = true;
    std::vector<std::unique_ptr<Expression>> parts;
    std::optional<bool> evaluate(const Feature& f) const override {
        bool unknown = false;
        for (const auto& p : parts) {
            const auto v = p->evaluate(f);
            if (!v) {
                unknown = true;
            } else if (*v != is_and) {
                return !is_and;
            }
        }
        if (unknown) return std::nullopt;
        return is_and;
    }
};

struct Not : Expression {
    std::unique_ptr<Expression> inner;
    std::optional<bool> evaluate(const Feature& f) const override {
        const auto v = inner->evaluate(f);
        if (!v) return std::nullopt;
        return !*v;
    }
};

struct IsNull : Expression {
    Operand operand;
    bool negate = false;
    std::optional<bool> evaluate(const Feature& f) const override {
        const bool is_null = std::holds_alternative<std::monostate>(operand.get(f));
        return negate ? !is_null : is_null;
    }
};

bool like(std::string_view s, std::string_view pattern) {
    // % any sequence, _ one character (bytes), \ escapes.
    std::size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
    while (si < s.size()) {
        if (pi < pattern.size() && pattern[pi] == '\\' && pi + 1 < pattern.size()) {
            if (pattern[pi + 1] == s[si]) {
                pi += 2;
                ++si;
                continue;
            }
        } else if (pi < pattern.size() && (pattern[pi] == '_' || pattern[pi] == s[si]) && pattern[pi] != '%') {
            ++pi;
            ++si;
            continue;
        } else if (pi < pattern.size() && pattern[pi] == '%') {
            star_p = pi++;
            star_s = si;
            continue;
        }
        if (star_p == std::string_view::npos) return false;
        pi = star_p + 1;
        si = ++star_s;
    }
    while (pi < pattern.size() && pattern[pi] == '%') ++pi;
    return pi == pattern.size();
}

struct Like : Expression {
    Operand operand;
    std::string pattern;
    bool negate = false;
    std::optional<bool> evaluate(const Feature& f) const override {
        const Value v = operand.get(f);
        const auto* s = std::get_if<std::string>(&v);
        if (s == nullptr) return std::nullopt;
        const bool m = like(*s, pattern);
        return negate ? !m : m;
    }
};

struct Between : Expression {
    Operand operand, low, high;
    bool negate = false;
    std::optional<bool> evaluate(const Feature& f) const override {
        const Value v = operand.get(f);
        const auto a = compare(v, low.get(f));
        const auto b = compare(v, high.get(f));
        if (!a || !b) return std::nullopt;
        const bool in = *a >= 0 && *b <= 0;
        return negate ? !in : in;
    }
};

struct In : Expression {
    Operand operand;
    std::vector<Operand> list;
    bool negate = false;
    std::optional<bool> evaluate(const Feature& f) const override {
        const Value v = operand.get(f);
        if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
        bool found = false;
        for (const auto& o : list) {
            const auto c = compare(v, o.get(f));
            if (c && *c == 0) found = true;
        }
        return negate ? !found : found;
    }
};

struct Intersects : Expression {
    SpatialLiteral literal;
    std::optional<bool> evaluate(const Feature& f) const override { return f.intersects(literal); }
};

struct BooleanProperty : Expression {
    Operand operand;
    std::optional<bool> evaluate(const Feature& f) const override {
        const Value v = operand.get(f);
        if (auto b = std::get_if<bool>(&v)) return *b;
        return std::nullopt;
    }
};

// ---- parser ---------------------------------------------------------------------------------------

class Parser {
public:
    Parser(const std::string& text, const std::set<std::string>& queryables, const CoordinateTransform& to_storage)
        : m_lex(text), m_queryables(queryables), m_transform(to_storage) {}

    std::unique_ptr<Expression> parse_all() {
        auto e = or_expr();
        if (m_lex.peek().kind != Tok::end) m_lex.fail("unexpected '" + m_lex.peek().text + "'");
        return e;
    }

private:
    bool keyword(const char* k) {
        if (m_lex.peek().kind == Tok::ident && m_lex.peek().upper == k) {
            m_lex.take();
            return true;
        }
        return false;
    }
    void expect(Tok k, const char* what) {
        if (m_lex.peek().kind != k) m_lex.fail(std::string("expected ") + what);
        m_lex.take();
    }

    std::unique_ptr<Expression> or_expr() {
        auto first = and_expr();
        if (m_lex.peek().kind != Tok::ident || m_lex.peek().upper != "OR") return first;
        auto l = std::make_unique<Logical>();
        l->is_and = false;
        l->parts.push_back(std::move(first));
        while (keyword("OR")) l->parts.push_back(and_expr());
        return l;
    }

    std::unique_ptr<Expression> and_expr() {
        auto first = not_expr();
        if (m_lex.peek().kind != Tok::ident || m_lex.peek().upper != "AND") return first;
        auto l = std::make_unique<Logical>();
        l->parts.push_back(std::move(first));
        while (keyword("AND")) l->parts.push_back(not_expr());
        return l;
    }

    std::unique_ptr<Expression> not_expr() {
        if (keyword("NOT")) {
            auto n = std::make_unique<Not>();
            n->inner = not_expr();
            return n;
        }
        return predicate();
    }

    std::unique_ptr<Expression> predicate() {
        const Token& t = m_lex.peek();
        if (t.kind == Tok::lparen) {
            m_lex.take();
            auto e = or_expr();
            expect(Tok::rparen, "')'");
            return e;
        }
        if (t.kind == Tok::ident && (t.upper == "S_INTERSECTS" || t.upper == "INTERSECTS")) {
            m_lex.take();
            expect(Tok::lparen, "'(' after S_INTERSECTS");
            // Either argument order: the property and a geometry literal.
            auto e = std::make_unique<Intersects>();
            bool have_property = false;
            bool have_literal = false;
            for (int arg = 0; arg < 2; ++arg) {
                if (arg == 1) expect(Tok::comma, "',' between the arguments of S_INTERSECTS");
                const Token& a = m_lex.peek();
                if ((a.kind == Tok::ident && is_geometry_keyword(a.upper))) {
                    e->literal = geometry_literal();
                    have_literal = true;
                } else {
                    const Operand p = operand();
                    if (p.kind != Operand::Kind::property || (p.property != "geometry" && p.property != "geom")) {
                        m_lex.fail("S_INTERSECTS needs the property 'geometry' and a geometry literal");
                    }
                    have_property = true;
                }
            }
            expect(Tok::rparen, "')' after S_INTERSECTS");
            if (!have_property || !have_literal) m_lex.fail("S_INTERSECTS needs the property 'geometry' and a geometry literal");
            return e;
        }
        if (t.kind == Tok::ident && (t.upper == "TRUE" || t.upper == "FALSE")) {
            Operand o = operand();
            auto e = std::make_unique<BooleanProperty>();
            e->operand = o;
            return e;
        }
        Operand left = operand();
        bool negate = keyword("NOT");
        if (keyword("LIKE")) {
            auto e = std::make_unique<Like>();
            e->operand = left;
            e->negate = negate;
            const Token p = m_lex.take();
            if (p.kind != Tok::string) m_lex.fail("LIKE needs a string pattern");
            e->pattern = p.text;
            return e;
        }
        if (keyword("BETWEEN")) {
            auto e = std::make_unique<Between>();
            e->operand = left;
            e->negate = negate;
            e->low = operand();
            if (!keyword("AND")) m_lex.fail("expected AND in BETWEEN");
            e->high = operand();
            return e;
        }
        if (keyword("IN")) {
            auto e = std::make_unique<In>();
            e->operand = left;
            e->negate = negate;
            expect(Tok::lparen, "'(' after IN");
            e->list.push_back(operand());
            while (m_lex.peek().kind == Tok::comma) {
                m_lex.take();
                e->list.push_back(operand());
            }
            expect(Tok::rparen, "')' after the IN list");
            return e;
        }
        if (negate) m_lex.fail("expected LIKE, BETWEEN or IN after NOT");
        if (keyword("IS")) {
            auto e = std::make_unique<IsNull>();
            e->operand = left;
            e->negate = keyword("NOT");
            if (!keyword("NULL")) m_lex.fail("expected NULL after IS");
            return e;
        }
        if (m_lex.peek().kind == Tok::op) {
            auto e = std::make_unique<Comparison>();
            e->left = left;
            e->op = m_lex.take().text;
            e->right = operand();
            return e;
        }
        if (left.kind == Operand::Kind::property) {
            auto e = std::make_unique<BooleanProperty>();
            e->operand = left;
            return e;
        }
        m_lex.fail("expected a comparison");
    }

    static bool is_geometry_keyword(const std::string& u) {
        return u == "POINT" || u == "LINESTRING" || u == "POLYGON" || u == "MULTIPOINT" || u == "MULTILINESTRING" ||
               u == "MULTIPOLYGON" || u == "BBOX" || u == "ENVELOPE";
    }

    Operand operand() {
        const Token t = m_lex.take();
        Operand o;
        switch (t.kind) {
            case Tok::string: o.literal = t.text; return o;
            case Tok::number: o.literal = t.number; return o;
            case Tok::quoted_ident: return property(t.text, t.pos);
            case Tok::ident: {
                if (t.upper == "TRUE" || t.upper == "FALSE") {
                    o.literal = t.upper == "TRUE";
                    return o;
                }
                if (t.upper == "NULL") return o;
                if (t.upper == "TIMESTAMP" || t.upper == "DATE") {
                    expect(Tok::lparen, "'(' after TIMESTAMP/DATE");
                    const Token s = m_lex.take();
                    if (s.kind != Tok::string) m_lex.fail("TIMESTAMP/DATE needs a quoted value");
                    expect(Tok::rparen, "')'");
                    const auto ms = core::parse_iso8601(s.text);
                    if (!ms) m_lex.fail("'" + s.text + "' is not an RFC 3339 date or date-time");
                    o.literal = Time{*ms};
                    return o;
                }
                return property(t.text, t.pos);
            }
            default: m_lex.fail("expected a property or a literal");
        }
    }

    Operand property(const std::string& name, std::size_t pos) {
        if (!m_queryables.count(name)) {
            std::string list;
            for (const auto& q : m_queryables) list += (list.empty() ? "" : ", ") + q;
            throw filter_error("filter: '" + name + "' at position " + std::to_string(pos + 1) +
                               " is not a queryable (queryables: " + list + ")");
        }
        Operand o;
        o.kind = Operand::Kind::property;
        o.property = name;
        return o;
    }

    spatial::Point coord(double a, double b) { return m_transform ? m_transform(a, b) : spatial::Point{a, b}; }

    // A WKT literal (or BBOX) turned into WKT in EPSG:4490 lon/lat.
    SpatialLiteral geometry_literal() {
        const Token kw = m_lex.take();
        std::string wkt;
        spatial::Box box;
        auto point_text = [&](double a, double b) {
            const spatial::Point p = coord(a, b);
            box.expand(p);
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.12g %.12g", p.x, p.y);
            return std::string(buf);
        };
        if (kw.upper == "BBOX" || kw.upper == "ENVELOPE") {
            expect(Tok::lparen, "'(' after BBOX");
            std::vector<double> v;
            while (true) {
                const Token n = m_lex.take();
                if (n.kind != Tok::number) m_lex.fail("BBOX needs numbers");
                v.push_back(n.number);
                if (m_lex.peek().kind == Tok::comma) {
                    m_lex.take();
                    continue;
                }
                break;
            }
            expect(Tok::rparen, "')' after BBOX");
            if (v.size() != 4 && v.size() != 6) m_lex.fail("BBOX needs 4 or 6 numbers");
            const std::size_t k = v.size() / 2;
            const double x0 = v[0], y0 = v[1], x1 = v[k], y1 = v[k + 1];
            wkt = "POLYGON((" + point_text(x0, y0) + "," + point_text(x1, y0) + "," + point_text(x1, y1) + "," +
                  point_text(x0, y1) + "," + point_text(x0, y0) + "))";
        } else {
            // Copy the WKT body verbatim but with every coordinate pair transformed.
            wkt = kw.upper;
            int depth = 0;
            std::vector<double> pending;
            auto flush_pair = [&] {
                if (pending.size() >= 2) {
                    wkt += point_text(pending[0], pending[1]);
                    pending.clear();
                }
            };
            do {
                const Token t = m_lex.take();
                if (t.kind == Tok::lparen) {
                    ++depth;
                    wkt += '(';
                } else if (t.kind == Tok::rparen) {
                    flush_pair();
                    --depth;
                    wkt += ')';
                } else if (t.kind == Tok::comma) {
                    flush_pair();
                    wkt += ',';
                } else if (t.kind == Tok::number) {
                    pending.push_back(t.number);
                } else {
                    m_lex.fail("malformed geometry literal");
                }
            } while (depth > 0);
        }
        SpatialLiteral lit;
        lit.wkt = wkt;
        lit.bbox = box;
        auto prep = std::make_shared<Prepared>();
        GEOSWKTReader* reader = GEOSWKTReader_create_r(prep->ctx.handle());
        GEOSGeometry* g = GEOSWKTReader_read_r(prep->ctx.handle(), reader, wkt.c_str());
        GEOSWKTReader_destroy_r(prep->ctx.handle(), reader);
        if (g == nullptr) throw filter_error("filter: malformed geometry literal " + kw.upper + ": " + prep->ctx.last_error());
        prep->geom = spatial::GeosGeometryPtr(g, spatial::GeosGeometryDeleter{prep->ctx.handle()});
        prep->prep = GEOSPrepare_r(prep->ctx.handle(), g);
        lit.prepared = prep;
        return lit;
    }

    Lexer m_lex;
    const std::set<std::string>& m_queryables;
    const CoordinateTransform& m_transform;
};

}  // namespace

bool SpatialLiteral::intersects_point(spatial::Point p) const {
    if (!bbox.contains(p)) return false;
    auto* prep = static_cast<Prepared*>(prepared.get());
    std::lock_guard lock(prep->mutex);
    GEOSGeometry* pt = GEOSGeom_createPointFromXY_r(prep->ctx.handle(), p.x, p.y);
    const bool r = GEOSPreparedIntersects_r(prep->ctx.handle(), prep->prep, pt) == 1;
    GEOSGeom_destroy_r(prep->ctx.handle(), pt);
    return r;
}

bool SpatialLiteral::intersects_polygon(const spatial::MultiPolygon& mp) const {
    if (!bbox.intersects(spatial::bounds(mp))) return false;
    auto* prep = static_cast<Prepared*>(prepared.get());
    std::lock_guard lock(prep->mutex);
    auto g = spatial::to_geos(prep->ctx, mp);
    return GEOSPreparedIntersects_r(prep->ctx.handle(), prep->prep, g.get()) == 1;
}

std::unique_ptr<Expression> parse(const std::string& text, const std::set<std::string>& queryables,
                                  const CoordinateTransform& to_storage) {
    if (text.size() > 100000) throw filter_error("filter: longer than 100000 characters");
    Parser p(text, queryables, to_storage);
    return p.parse_all();
}

}  // namespace onegrid::server::cql2
