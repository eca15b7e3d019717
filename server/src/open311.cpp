// Open311 GeoReport v2 under /open311/v2 (JSON and XML): discovery, services from the categories,
// service definitions, POST requests (api_key), GET requests with the standard filters, one
// request by id, tokens. Status open/closed is mapped from the workflow state.

#include <nlohmann/json.hpp>
#include <sstream>

#include "app_internal.hpp"
#include "multipart.hpp"
#include "onegrid/spatial/crs.hpp"

namespace onegrid::server {

using nlohmann::json;

namespace {

enum class Fmt { json, xml };

std::string xml_escape(std::string_view s) { return html_escape(s); }

// A minimal element tree, serialised as Open311's XML or its JSON ("Spark") mapping.
struct Node {
    std::string name;
    std::optional<std::string> text;  // leaf value (nullopt: null)
    bool is_leaf = true;
    std::vector<Node> children;
    bool list = false;  // children are list items (JSON array)

    static Node leaf(std::string n, std::optional<std::string> v) { return {std::move(n), std::move(v), true, {}, false}; }
    static Node object(std::string n, std::vector<Node> c) { return {std::move(n), std::nullopt, false, std::move(c), false}; }
    static Node array(std::string n, std::vector<Node> c) { return {std::move(n), std::nullopt, false, std::move(c), true}; }
};

// Leaves whose JSON value is a number or boolean rather than a string.
const std::set<std::string> json_literal = {"lat", "long", "metadata", "variable", "required", "order", "code"};

json to_json(const Node& n) {
    if (n.is_leaf) {
        if (!n.text) return nullptr;
        if (json_literal.count(n.name)) {
            json v = json::parse(*n.text, nullptr, false);
            if (!v.is_discarded()) return v;
        }
        return *n.text;
    }
    if (n.list) {
        json a = json::array();
        for (const auto& c : n.children) a.push_back(to_json(c));
        return a;
    }
    json o = json::object();
    for (const auto& c : n.children) o[c.name] = to_json(c);
    return o;
}

void to_xml(const Node& n, std::string& out) {
    out += "<" + n.name + ">";
    if (n.is_leaf) {
        if (n.text) out += xml_escape(*n.text);
    } else {
        for (const auto& c : n.children) to_xml(c, out);
    }
    out += "</" + n.name + ">";
}

Reply render(const Node& root, Fmt fmt, http::status status = http::status::ok) {
    if (fmt == Fmt::json) return json_reply(to_json(root).dump(), status, "application/json; charset=utf-8");
    std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
    to_xml(root, out);
    return Reply(status, "text/xml; charset=utf-8", std::move(out));
}

Reply error(Fmt fmt, http::status status, const std::string& description) {
    const std::string code = std::to_string(static_cast<unsigned>(status));
    return render(Node::array("errors", {Node::object("error", {Node::leaf("code", code), Node::leaf("description", description)})}),
                  fmt, status);
}

bool is_closed(core::Status s) { return s == core::Status::closed || s == core::Status::rated || s == core::Status::voided; }

Node request_node(App::Context& ctx, const core::Incident& i) {
    const auto events = ctx.store.events(i.id);
    std::string notes;
    std::optional<std::string> media_url;
    for (const auto& e : events) {
        if (!e.note.empty()) notes = e.note;
        if (e.action == "report" && !e.data.empty()) {
            const json d = json::parse(e.data, nullptr, false);
            if (d.is_object() && d.contains("media_urls") && d["media_urls"].is_array() && !d["media_urls"].empty())
                media_url = d["media_urls"][0].get<std::string>();
        }
    }
    std::string agency;
    for (const auto& d : ctx.store.departments())
        if (d.code == i.department) agency = d.name;
    auto opt = [](const std::string& s) { return s.empty() ? std::optional<std::string>() : std::optional<std::string>(s); };
    auto num = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.7f", v);
        return std::string(buf);
    };
    const core::Timestamp updated = i.closed_at && is_closed(i.status) ? *i.closed_at : i.updated_at;
    // lat/long as reported (WGS 84): the stored point is CGCS2000, equal within centimetres.
    return Node::object("request", {
        Node::leaf("service_request_id", std::to_string(i.id)),
        Node::leaf("status", std::string(is_closed(i.status) ? "closed" : "open")),
        Node::leaf("status_notes", opt(notes)),
        Node::leaf("service_name", category_name(ctx, i.category)),
        Node::leaf("service_code", i.category),
        Node::leaf("description", opt(i.description)),
        Node::leaf("agency_responsible", opt(agency)),
        Node::leaf("service_notice", std::nullopt),
        Node::leaf("requested_datetime", core::format_iso8601(i.reported_at)),
        Node::leaf("updated_datetime", core::format_iso8601(updated)),
        Node::leaf("expected_datetime", i.due_at ? std::optional<std::string>(core::format_iso8601(*i.due_at)) : std::nullopt),
        Node::leaf("address", opt(i.address)),
        Node::leaf("address_id", std::nullopt),
        Node::leaf("zipcode", std::nullopt),
        Node::leaf("lat", num(i.location.y)),
        Node::leaf("long", num(i.location.x)),
        Node::leaf("media_url", media_url),
    });
}

// Splits the last path segment "name.json" into name and format.
std::optional<std::pair<std::string, Fmt>> resource(const std::string& segment) {
    if (segment.ends_with(".json")) return std::pair{segment.substr(0, segment.size() - 5), Fmt::json};
    if (segment.ends_with(".xml")) return std::pair{segment.substr(0, segment.size() - 4), Fmt::xml};
    return std::nullopt;
}

Reply post_request(App::Context& ctx, const Call& call, Fmt fmt) {
    // Form fields (application/x-www-form-urlencoded) or multipart with a `media` upload.
    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<core::Photo> photos;
    const auto ct_it = call.req.find(http::field::content_type);
    const std::string ct = ct_it != call.req.end() ? std::string(ct_it->value()) : "";
    if (auto boundary = detail::multipart_boundary(ct)) {
        try {
            for (const auto& part : detail::parse_multipart(call.req.body(), *boundary)) {
                if (!part.filename.empty() || part.name == "media") {
                    core::Photo p;
                    const auto* d = reinterpret_cast<const std::byte*>(part.body.data());
                    p.bytes.assign(d, d + part.body.size());
                    p.filename = part.filename;
                    photos.push_back(std::move(p));
                } else {
                    fields.emplace_back(part.name, std::string(part.body));
                }
            }
        } catch (const detail::multipart_error& e) {
            return error(fmt, http::status::bad_request, std::string("malformed multipart body: ") + e.what());
        }
    } else {
        const auto form = parse_form(call.req.body());
        if (!form) return error(fmt, http::status::bad_request, "malformed form body");
        fields = *form;
    }
    // Query parameters count too (some clients send everything in the URL).
    for (const auto& kv : call.target.query) fields.push_back(kv);
    auto get = [&](const char* k) -> std::string {
        for (const auto& [key, v] : fields)
            if (key == k) return v;
        return {};
    };
    const std::string api_key = get("api_key");
    if (api_key.empty()) return error(fmt, http::status::forbidden, "api_key is required to create a service request");
    const auto who = ctx.auth.resolve(api_key);
    if (!who) return error(fmt, http::status::forbidden, "Invalid api_key received -- can't proceed with create_request.");
    const std::string code = get("service_code");
    if (code.empty()) return error(fmt, http::status::bad_request, "service_code is required");
    if (!ctx.category(code)) return error(fmt, http::status::not_found, "service_code '" + code + "' not found");
    const std::string lat = get("lat");
    const std::string lon = get("long");
    if (lat.empty() || lon.empty()) {
        return error(fmt, http::status::bad_request,
                     "lat and long (WGS 84) are required: requests are assigned to their grid by location");
    }
    char* e1 = nullptr;
    char* e2 = nullptr;
    const double la = std::strtod(lat.c_str(), &e1);
    const double lo = std::strtod(lon.c_str(), &e2);
    if (*e1 != '\0' || *e2 != '\0') return error(fmt, http::status::bad_request, "lat and long must be numbers");
    const std::string description = get("description");
    if (description.size() > 4000) return error(fmt, http::status::bad_request, "description is longer than 4000 characters");
    core::IntakeRequest r;
    r.source = core::Source::citizen;
    r.category = code;
    r.description = description;
    r.address = get("address_string");
    r.point = {lo, la};
    r.crs = spatial::InputCrs::wgs84;
    r.reporter.id = who->user;
    r.reporter.name = (get("first_name") + " " + get("last_name"));
    if (r.reporter.name == " ") r.reporter.name.clear();
    r.reporter.phone = get("phone");
    if (const auto token = get("request_token"); !token.empty()) r.request_id = "open311:" + token;
    r.photos = std::move(photos);
    if (const auto media_url = get("media_url"); !media_url.empty()) {
        if (media_url.size() > 2000 || !(media_url.starts_with("http://") || media_url.starts_with("https://")))
            return error(fmt, http::status::bad_request, "media_url must be an http(s) URL of at most 2000 characters");
        r.media_urls.push_back(media_url);
    }
    Principal actor = *who;
    r.actor = actor.actor();
    if (!r.actor.id.empty() && r.actor.role != core::Role::citizen) r.actor.role = core::Role::citizen;
    const auto out = ctx.workflow->intake(r);
    if (out.created) {
        ++ctx.metrics.intakes;
        ctx.incident_changed(out.incident, &out.first_event);
    }
    const auto cat = ctx.category(code);
    std::string notice = "已受理，将按时限处理";
    if (cat) {
        notice += "（时限 " + std::to_string(static_cast<int>(cat->limit)) +
                  (cat->limit_unit == core::LimitUnit::hours ? " 小时" : " 个工作日") + "）";
    }
    return render(Node::array("service_requests",
                              {Node::object("request", {Node::leaf("service_request_id", std::to_string(out.incident.id)),
                                                        Node::leaf("service_notice", notice),
                                                        Node::leaf("account_id", std::nullopt)})}),
                  fmt);
}

}  // namespace

std::optional<Reply> open311_service(App::Context& ctx, Call& call) {
    const auto& p = call.parts;
    if (p.empty() || p[0] != "open311") return std::nullopt;
    const bool get = call.req.method() == http::verb::get || call.req.method() == http::verb::head;
    if (p.size() == 2) {
        const auto r = resource(p[1]);
        if (!r || r->first != "discovery") return error_reply(http::status::not_found, "not_found", "no resource " + call.target.path);
        const Node doc = Node::object(
            "discovery",
            {Node::leaf("changeset", core::format_iso8601(static_cast<core::Timestamp>(ctx.reference_version.load()))),
             Node::leaf("contact", "蓬莱区网格化服务管理中心 (OneGrid demo)"),
             Node::leaf("key_service", "API keys are issued by the district: onegrid token create --role citizen"),
             Node::array("endpoints",
                         {Node::object("endpoint",
                                       {Node::leaf("specification", "http://wiki.open311.org/GeoReport_v2"),
                                        Node::leaf("url", call.base + "/open311/v2"), Node::leaf("changeset", "2026-01-01T00:00:00Z"),
                                        Node::leaf("type", "production"),
                                        Node::array("formats", {Node::leaf("format", "text/xml"), Node::leaf("format", "application/json")})})})});
        return render(doc, r->second);
    }
    if (p.size() < 3 || p[1] != "v2") return error_reply(http::status::not_found, "not_found", "Open311 GeoReport v2 is at /open311/v2");
    const auto last = resource(p.back());
    if (!last) return error(Fmt::json, http::status::not_found, "add .json or .xml to the resource");
    const Fmt fmt = last->second;
    if (p.size() == 3 && last->first == "services" && get) {
        std::vector<Node> list;
        for (const auto& c : ctx.store.categories()) {
            list.push_back(Node::object(
                "service", {Node::leaf("service_code", c.code), Node::leaf("service_name", c.name),
                            Node::leaf("description", c.name + "（" + c.major_class + "）"), Node::leaf("metadata", "true"),
                            Node::leaf("type", "realtime"), Node::leaf("keywords", c.major_class + ", " + c.kind),
                            Node::leaf("group", c.major_class)}));
        }
        return render(Node::array("services", std::move(list)), fmt);
    }
    if (p.size() == 4 && p[2] == "services" && get) {
        const auto c = ctx.category(last->first);
        if (!c) return error(fmt, http::status::not_found, "service_code '" + last->first + "' not found");
        const std::string limit = std::to_string(static_cast<int>(c->limit)) +
                                  (c->limit_unit == core::LimitUnit::hours ? " hours" : " working days");
        return render(Node::object("service_definition",
                                   {Node::leaf("service_code", c->code),
                                    Node::array("attributes",
                                                {Node::object("attribute",
                                                              {Node::leaf("variable", "false"), Node::leaf("code", "\"TIME_LIMIT\""),
                                                               Node::leaf("datatype", "string"), Node::leaf("required", "false"),
                                                               Node::leaf("datatype_description", std::nullopt), Node::leaf("order", "1"),
                                                               Node::leaf("description", "Handled within " + limit + " of dispatch")})})}),
                      fmt);
    }
    if (p.size() == 3 && last->first == "requests") {
        if (call.req.method() == http::verb::post) return post_request(ctx, call, fmt);
        if (!get) return error(fmt, http::status::method_not_allowed, "GET or POST");
        core::IncidentQuery q;
        q.limit = 1000;
        q.newest_first = true;
        if (const auto ids = call.target.param("service_request_id")) {
            std::stringstream ss(*ids);
            for (std::string s; std::getline(ss, s, ',');) {
                char* end = nullptr;
                const long long id = std::strtoll(s.c_str(), &end, 10);
                if (end == nullptr || *end != '\0') return error(fmt, http::status::bad_request, "service_request_id must be numbers");
                q.ids.push_back(id);
            }
        } else {
            if (const auto codes = call.target.param("service_code")) {
                std::stringstream ss(*codes);
                for (std::string s; std::getline(ss, s, ',');) q.categories.insert(s);
            }
            const core::Timestamp now = ctx.clock.now();
            std::optional<core::Timestamp> start;
            std::optional<core::Timestamp> end;
            if (const auto s = call.target.param("start_date")) {
                start = core::parse_iso8601(*s);
                if (!start) return error(fmt, http::status::bad_request, "start_date is not a W3C date-time");
            }
            if (const auto s = call.target.param("end_date")) {
                end = core::parse_iso8601(*s);
                if (!end) return error(fmt, http::status::bad_request, "end_date is not a W3C date-time");
            }
            if (!end) end = start ? *start + 90 * core::ms_per_day : now;
            if (!start) start = *end - 90 * core::ms_per_day;
            if (*end < *start) return error(fmt, http::status::bad_request, "end_date is before start_date");
            if (*end - *start > 90 * core::ms_per_day) return error(fmt, http::status::bad_request, "the date range spans more than 90 days");
            q.reported_from = start;
            q.reported_to = *end + 1;
            if (const auto st = call.target.param("status")) {
                std::stringstream ss(*st);
                for (std::string s; std::getline(ss, s, ',');) {
                    if (s == "open") {
                        for (auto x : {core::Status::reported, core::Status::registered, core::Status::dispatched, core::Status::accepted,
                                       core::Status::returned, core::Status::handled, core::Status::rework})
                            q.statuses.insert(x);
                    } else if (s == "closed") {
                        for (auto x : {core::Status::closed, core::Status::rated, core::Status::voided}) q.statuses.insert(x);
                    } else {
                        return error(fmt, http::status::bad_request, "status must be open or closed");
                    }
                }
            }
        }
        std::vector<Node> list;
        for (const auto& i : ctx.store.incidents(q)) list.push_back(request_node(ctx, i));
        return render(Node::array("service_requests", std::move(list)), fmt);
    }
    if (p.size() == 4 && p[2] == "requests" && get) {
        char* end = nullptr;
        const long long id = std::strtoll(last->first.c_str(), &end, 10);
        const auto i = (end != nullptr && *end == '\0') ? ctx.store.incident(id) : std::nullopt;
        if (!i) return error(fmt, http::status::not_found, "service_request_id '" + last->first + "' not found");
        return render(Node::array("service_requests", {request_node(ctx, *i)}), fmt);
    }
    if (p.size() == 4 && p[2] == "tokens" && get) {
        const auto i = ctx.store.incident_by_request("open311:" + last->first);
        if (!i) return error(fmt, http::status::not_found, "token '" + last->first + "' not found");
        return render(Node::array("service_requests", {Node::object("request", {Node::leaf("service_request_id", std::to_string(i->id)),
                                                                                Node::leaf("token", last->first)})}),
                      fmt);
    }
    return error(fmt, http::status::not_found, "no resource " + call.target.path);
}

}  // namespace onegrid::server
