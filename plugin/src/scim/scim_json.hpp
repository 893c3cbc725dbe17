// SCIM JSON: tolerant parsers (attribute names case-insensitive, unknown attributes ignored, optional ones may
// be missing or null, a wrong type is an error that names the field) and request bodies built with RapidJSON's
// Writer (never by concatenation; no null is ever sent: absent values are omitted).
//
// List pages are parsed in situ: the response buffer itself holds the parsed strings, and only the fields the
// connector uses are copied out. Parsing is iterative (no recursion: deeply nested input cannot exhaust the
// stack) and validates UTF-8.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"

namespace ce::scim {

// A body that cannot be understood: transient (a GET is retried within the budget). The client turns it into
// Client::malformed() before it leaves the SCIM layer.
class ParseError : public Error {
public:
    explicit ParseError(std::string why) : Error(ErrorKind::transient, std::move(why)) {}
};

struct Email {
    std::string value;
    std::string type;
    bool primary = false;
};

struct User {
    std::string id;
    std::string user_name;
    std::string display_name;
    std::string given_name;
    std::string family_name;
    std::string external_id;
    std::vector<Email> emails;
    bool active = true;  // absent means active
};

struct Group {
    std::string id;
    std::string display_name;
    std::string external_id;
};

struct Member {
    std::string value;  // the member's id
    std::string type;   // "User", "Group" or "" when the server does not say
};

template <typename T>
struct ListPage {
    int64_t total_results = -1;  // -1 when absent
    std::vector<T> resources;
};

// Each takes the body by reference and parses it in place (the buffer is modified).
ListPage<User> parse_user_page(std::string &body);
ListPage<Group> parse_group_page(std::string &body);
// A list whose resources are not needed: totalResults and how many resources came back.
struct ListSummary {
    int64_t total_results = -1;
    size_t returned = 0;
};
ListSummary parse_list_summary(std::string &body);
User parse_user(std::string &body);
// One resource of a group list page on its own (a GroupPageReader cuts pages into them): a JSON object with an
// id; fields are named as Resources[index].
Group parse_listed_group(std::string &body, size_t index);
// The members of one group resource (GET /Groups/{id}?attributes=members). No "members" key: none.
std::vector<Member> parse_group_members(std::string &body);

// A SCIM error body (RFC 7644 §3.12), or whatever the server sent instead.
struct ErrorBody {
    bool is_scim = false;      // a JSON object with at least one of status/detail/scimType
    std::string status;        // as a string, whether the server sent a string or a number
    std::string scim_type;
    std::string detail;
};
ErrorBody parse_error_body(std::string_view body);

// Bodies.
struct NewUser {
    std::string user_name;    // the email
    std::string email;
    std::string display_name;
    std::string given_name;
    std::string family_name;  // empty: omitted
};
std::string build_create_user(const NewUser &user);
std::string build_patch_active(bool active);
std::string build_patch_add_member(std::string_view user_id);
std::string build_patch_remove_member(std::string_view user_id);

}  // namespace ce::scim
