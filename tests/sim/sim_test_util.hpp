// Helpers for the scim-sim tests: an in-process server, an HTTP client bound to it, JSON parsing, URL encoding.
#pragma once

#include "scim_sim/server.hpp"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace simtest {

inline const std::string kToken = "test-token-5ec7e7";

inline rapidjson::Document parse(const std::string &text) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    if (d.HasParseError()) throw std::runtime_error("not JSON: " + text.substr(0, 200));
    return d;
}

inline bool is_json(const std::string &text) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    return !d.HasParseError();
}

inline std::string enc(const std::string &s) {
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '_' || c == '.' || c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// A JSON string literal (for building filters and bodies in tests).
inline std::string jstr(const std::string &s) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return sb.GetString();
}

inline scim_sim::Options options() {
    scim_sim::Options o;
    o.token = kToken;
    return o;
}

// Origin ("http://127.0.0.1:port") of a server.
inline std::string origin(const scim_sim::Server &s) {
    std::string a = s.admin_url();
    return a.substr(0, a.size() - std::string("/_admin").size());
}

struct Response {
    int status = 0;  // 0: no response (connection error)
    std::string body;
    httplib::Headers headers;
    std::string header(const std::string &k) const {
        auto it = headers.find(k);
        return it == headers.end() ? std::string() : it->second;
    }
    rapidjson::Document json() const { return parse(body); }
};

// A client of one server; every request carries the bearer token unless `token` is changed.
struct Client {
    std::unique_ptr<httplib::Client> cli;
    std::string base_path = "/scim/v2";
    std::string token = kToken;

    explicit Client(const scim_sim::Server &s) : cli(std::make_unique<httplib::Client>(origin(s))) {
        cli->set_read_timeout(30, 0);
        cli->set_write_timeout(30, 0);
        cli->set_connection_timeout(10, 0);
    }
    Client(const std::string &origin_url, bool) : cli(std::make_unique<httplib::Client>(origin_url)) {}

    httplib::Headers headers() const {
        httplib::Headers h{{"Accept", "application/scim+json"}};
        if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
        return h;
    }
    static Response conv(const httplib::Result &r) {
        Response out;
        if (!r) return out;
        out.status = r->status;
        out.body = r->body;
        out.headers = r->headers;
        return out;
    }
    Response get(const std::string &path) { return conv(cli->Get((base_path + path).c_str(), headers())); }
    Response del(const std::string &path) { return conv(cli->Delete((base_path + path).c_str(), headers())); }
    Response post(const std::string &path, const std::string &body) {
        return conv(cli->Post((base_path + path).c_str(), headers(), body, "application/scim+json"));
    }
    Response put(const std::string &path, const std::string &body) {
        return conv(cli->Put((base_path + path).c_str(), headers(), body, "application/scim+json"));
    }
    Response patch(const std::string &path, const std::string &body) {
        return conv(cli->Patch((base_path + path).c_str(), headers(), body, "application/scim+json"));
    }
    Response admin_get(const std::string &what) { return conv(cli->Get(("/_admin/" + what).c_str())); }
    Response admin_post(const std::string &what) { return conv(cli->Post(("/_admin/" + what).c_str(), "", "text/plain")); }
};

inline const std::string kAdminKey = "sk-ant-api01-test-admin-key-9Qx";
inline const std::string kBetaHeader = "ce-user-management-2026-07-13";

// A client of the Admin API (/v1/organizations/...); every request carries the key and anthropic-version.
struct AdminClient {
    std::unique_ptr<httplib::Client> cli;
    std::string key = kAdminKey;
    bool bearer = false;   // send the key as Authorization: Bearer instead of x-api-key
    bool beta = false;     // send anthropic-beta (needed by the older generation's group and role paths)
    bool version = true;   // send anthropic-version

    explicit AdminClient(const scim_sim::Server &s) : cli(std::make_unique<httplib::Client>(origin(s))) {
        cli->set_read_timeout(30, 0);
        cli->set_connection_timeout(10, 0);
    }
    httplib::Headers headers() const {
        httplib::Headers h;
        if (!key.empty()) h.emplace(bearer ? "Authorization" : "x-api-key", bearer ? "Bearer " + key : key);
        if (version) h.emplace("anthropic-version", "2023-06-01");
        if (beta) h.emplace("anthropic-beta", kBetaHeader);
        return h;
    }
    static std::string path(const std::string &p) { return "/v1/organizations" + p; }
    Response get(const std::string &p) { return Client::conv(cli->Get(path(p).c_str(), headers())); }
    Response del(const std::string &p) { return Client::conv(cli->Delete(path(p).c_str(), headers())); }
    Response post(const std::string &p, const std::string &body) {
        return Client::conv(cli->Post(path(p).c_str(), headers(), body, "application/json"));
    }
};

inline std::string str(const rapidjson::Value &v, const char *key) {
    auto it = v.FindMember(key);
    if (it == v.MemberEnd() || !it->value.IsString()) return {};
    return it->value.GetString();
}

inline std::string patch_body(const std::string &operations) {
    return R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":)" + operations + "}";
}

inline std::string user_body(const std::string &user_name, const std::string &given = "Ada",
                             const std::string &family = "Lovelace", const std::string &extra = "") {
    return R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":)" + jstr(user_name) +
           R"(,"name":{"givenName":)" + jstr(given) + R"(,"familyName":)" + jstr(family) + R"(},"displayName":)" +
           jstr(given + " " + family) + R"(,"emails":[{"value":)" + jstr(user_name) +
           R"(,"primary":true,"type":"work"}],"active":true)" + extra + "}";
}

}  // namespace simtest
