// Unit tests of the server's parsing pieces: targets, escapes, content negotiation, ETags,
// multipart bodies and CQL2 text.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cql2.hpp"
#include "json_writer.hpp"
#include "multipart.hpp"
#include "onegrid/server/http.hpp"

namespace onegrid::server {
namespace {

TEST(Http, JsonStringsAreEscapedWhereverTheSpecialCharacterSits) {
    // The writer skips clean text eight bytes at a time: put each special character at every
    // offset of a long string (and in UTF-8 text) and read the result back with a JSON parser.
    const std::string specials[] = {"\"", "\\", "\n", std::string(1, '\0'), "\x01", "\x1f", "\t"};
    for (const auto& sp : specials) {
        for (std::size_t at = 0; at < 20; ++at) {
            std::string text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ网格";
            text.insert(at, sp);
            std::string out;
            detail::JsonWriter w(out);
            w.begin_object().key("k").value(text).end_object();
            const auto parsed = nlohmann::json::parse(out);
            EXPECT_EQ(parsed["k"].get<std::string>(), text) << out;
        }
    }
    std::string out;
    detail::JsonWriter w(out);
    w.value(std::string_view("0123456789abcdef~\x7f\xe7\xbd\x91"));
    EXPECT_EQ(out, "\"0123456789abcdef~\x7f\xe7\xbd\x91\"");
}

TEST(Http, TargetsAreDecodedAndUnsafeOnesRefused) {
    auto t = parse_target("/collections/grids/items?limit=5&bbox=1%2C2%2C3%2C4&q=a+b");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->path, "/collections/grids/items");
    EXPECT_EQ(t->param("limit"), "5");
    EXPECT_EQ(t->param("bbox"), "1,2,3,4");
    EXPECT_EQ(t->param("q"), "a b");
    EXPECT_FALSE(t->param("nothing"));
    EXPECT_EQ(segments("/a/b/"), (std::vector<std::string>{"a", "b"}));
    for (const char* bad : {"", "relative", "/a/%zz", "/a/%00b", "/a/../b", "/a/%2e%2e/b", "/x?y=%G0"})
        EXPECT_FALSE(parse_target(bad)) << bad;
}

TEST(Http, RebuildingAQueryKeepsOrderAndEscapes) {
    auto t = parse_target("/x?limit=5&offset=0&filter=a%20%3D%20'b'");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->with("offset", "10"), "limit=5&offset=10&filter=a%20%3D%20%27b%27");
    EXPECT_EQ(t->with("offset", std::nullopt), "limit=5&filter=a%20%3D%20%27b%27");
    EXPECT_EQ(t->with("f", "json"), "limit=5&offset=0&filter=a%20%3D%20%27b%27&f=json");
}

TEST(Http, FormsAndEscapes) {
    auto f = parse_form("a=1&b=%E8%B7%AF%E7%81%AF&c=x+y&d");
    ASSERT_TRUE(f);
    ASSERT_EQ(f->size(), 4u);
    EXPECT_EQ((*f)[1].second, "路灯");
    EXPECT_EQ((*f)[2].second, "x y");
    EXPECT_EQ((*f)[3].first, "d");
    EXPECT_FALSE(parse_form("a=%4"));
    EXPECT_EQ(url_encode("路 a/b&c=d"), "%E8%B7%AF%20a/b%26c%3Dd");
}

TEST(Http, NegotiationHonoursQualityValues) {
    const std::vector<std::string> offered = {"application/geo+json", "text/html"};
    EXPECT_EQ(negotiate("", offered), "application/geo+json");
    EXPECT_EQ(negotiate("*/*", offered), "application/geo+json");
    EXPECT_EQ(negotiate("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", offered), "text/html");
    EXPECT_EQ(negotiate("text/html;q=0.1, application/geo+json", offered), "application/geo+json");
    EXPECT_EQ(negotiate("application/json", offered), std::nullopt);
    EXPECT_EQ(negotiate("text/*", offered), "text/html");
}

TEST(Http, EtagsMatchListsAndWildcards) {
    const std::string e = etag_of("hello");
    EXPECT_EQ(e.front(), '"');
    EXPECT_NE(e, etag_of("hellp"));
    EXPECT_TRUE(etag_matches(e, e));
    EXPECT_TRUE(etag_matches("\"x\", " + e, e));
    EXPECT_TRUE(etag_matches("*", e));
    EXPECT_TRUE(etag_matches("W/" + e, e));  // weak comparison for If-None-Match
    EXPECT_FALSE(etag_matches("\"x\"", e));
}

TEST(Http, ErrorRepliesShareOneFormat) {
    const auto r = error_reply(http::status::bad_request, "invalid_parameter", "bbox: \"x\" is not a number");
    EXPECT_EQ(r.status, http::status::bad_request);
    EXPECT_EQ(r.find_header("Content-Type"), "application/json");
    EXPECT_EQ(*r.body, R"({"code":"invalid_parameter","description":"bbox: \"x\" is not a number"})");
}

TEST(Multipart, PartsWithFilesAndFields) {
    const std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"report\"\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\r\n"
        "--XyZ--\r\n";
    auto b = detail::multipart_boundary("multipart/form-data; boundary=XyZ");
    ASSERT_EQ(b, "XyZ");
    auto parts = detail::parse_multipart(body, *b);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].name, "report");
    EXPECT_EQ(parts[0].body, "{\"a\":1}");
    EXPECT_EQ(parts[1].filename, "p.png");
    EXPECT_EQ(parts[1].body, "\x89PNG\r\n");
    EXPECT_EQ(detail::multipart_boundary("multipart/form-data; boundary=\"q q\""), "q q");
    EXPECT_FALSE(detail::multipart_boundary("application/json"));
    EXPECT_THROW((void)detail::parse_multipart("--XyZ\r\nno end", "XyZ"), detail::multipart_error);
    EXPECT_THROW((void)detail::parse_multipart("garbage", "XyZ"), detail::multipart_error);
    std::string many;
    for (int i = 0; i < 40; ++i) many += "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n";
    EXPECT_THROW((void)detail::parse_multipart(many + "--XyZ--\r\n", "XyZ"), detail::multipart_error);
}

// ---- CQL2 -----------------------------------------------------------------------------------------

cql2::Feature feature(std::map<std::string, cql2::Value> props, spatial::Point where = {0, 0}) {
    cql2::Feature f;
    f.property = [props = std::move(props)](const std::string& k) -> cql2::Value {
        auto it = props.find(k);
        return it == props.end() ? cql2::Value{} : it->second;
    };
    f.intersects = [where](const cql2::SpatialLiteral& l) { return l.intersects_point(where); };
    return f;
}

bool eval(const std::string& text, const cql2::Feature& f) {
    const auto e = cql2::parse(text, {"category", "status", "level", "grid", "reported_at", "geometry"});
    return e->evaluate(f).value_or(false);
}

TEST(Cql2, BasicComparisonsAndLogic) {
    const auto f = feature({{"category", std::string("0102")}, {"status", std::string("reported")}, {"level", 2.0}});
    EXPECT_TRUE(eval("category = '0102'", f));
    EXPECT_FALSE(eval("category <> '0102'", f));
    EXPECT_TRUE(eval("level >= 2 AND level < 3", f));
    EXPECT_TRUE(eval("level > 5 OR status = 'reported'", f));
    EXPECT_TRUE(eval("NOT (level > 5)", f));
    EXPECT_TRUE(eval("grid IS NULL", f));
    EXPECT_FALSE(eval("grid = 'x'", f));          // unknown is not true
    EXPECT_FALSE(eval("NOT (grid = 'x')", f));    // NOT unknown is unknown
    EXPECT_TRUE(eval("category IN ('0101', '0102')", f));
    EXPECT_TRUE(eval("category LIKE '01%'", f));
    EXPECT_TRUE(eval("level BETWEEN 1 AND 2", f));
    EXPECT_TRUE(eval("status = 'it''s'", feature({{"status", std::string("it's")}})));
    EXPECT_TRUE(eval("\"category\" = '0102'", f));
}

TEST(Cql2, TimesAndSpatialPredicates) {
    const auto t = feature({{"reported_at", cql2::Time{1772413200000}}}, {120.75, 37.80});  // 2026-03-02T01:00:00Z
    EXPECT_TRUE(eval("reported_at > TIMESTAMP('2026-03-01T00:00:00Z')", t));
    EXPECT_FALSE(eval("reported_at < TIMESTAMP('2026-03-01T00:00:00Z')", t));
    EXPECT_TRUE(eval("S_INTERSECTS(geometry, POLYGON((120 37, 121 37, 121 38, 120 38, 120 37)))", t));
    EXPECT_FALSE(eval("S_INTERSECTS(geometry, POLYGON((121 37, 122 37, 122 38, 121 38, 121 37)))", t));
    EXPECT_TRUE(eval("S_INTERSECTS(geometry, BBOX(120.7, 37.7, 120.8, 37.9))", t));
    EXPECT_TRUE(eval("S_INTERSECTS(geometry, POINT(120.75 37.8))", t));
}

TEST(Cql2, ErrorsSayWhatIsWrong) {
    const std::set<std::string> q = {"category", "geometry"};
    for (const char* bad : {"", "category =", "colour = 'red'", "category = 'a' AND", "(category = 'a'", "category = 'unterminated",
                            "S_INTERSECTS(geometry, POLYGON((1 2, 3 4)))", "S_INTERSECTS(category, POINT(1 2))",
                            "category LIKE 5", "category IN ()", "category = 'a' extra"}) {
        try {
            (void)cql2::parse(bad, q);
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const cql2::filter_error& e) {
            EXPECT_GT(std::string(e.what()).size(), 10u) << bad;
        }
    }
}

}  // namespace
}  // namespace onegrid::server
