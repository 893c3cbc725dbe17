// Reads the members of one group resource (GET /Groups/{id}?attributes=members) from a body that arrives in
// pieces, and hands over each member as soon as its JSON object is complete. Memory stays at one member (plus
// the few bytes of the document around the member list) however large the group: a 100,000-member group is
// never a 13 MB buffer, a DOM, nor a vector.
//
// It accepts exactly the documents parse_group_members accepts (a JSON object; the first top-level key equal to
// "members" ignoring case decides: absent or null means no members, an array of objects gives them, anything
// else is an error; in each member the first "value" is a required string and the first "type" an optional
// one), except that a raw NUL byte anywhere is refused (it is never valid JSON; the in-place parser would have
// stopped reading there). The fuzzer scim_json_fuzzer checks the two against each other, cut at random points.
//
// How: a byte-level scanner follows strings and nesting, recognises the top-level "members" key (escapes
// decoded) and cuts the member array into elements; each element is parsed on its own by RapidJSON's SAX reader
// (in place, UTF-8 validated, iterative) and the rest of the document, with the array's content left out, is
// kept and parsed when the body ends. A document is valid exactly when that rest and every element are.
//
// What it holds is bounded (Limits): one member object (max-member-kb) and the document around the member list
// (max-response-mb); past either it throws LimitError naming the setting, at once and for good (not a malformed
// body to retry: the same server would send it again).
//
// Members are handed over before the end of the body is known to be well formed, and a body corrupted in the
// middle can yield a member that is not one (an id cut short by a stray quote) before the error shows: a caller
// must not act on a member it cannot vouch for until finish() has returned (the connector delivers at once only
// members that name a user or group of the sync, and holds the others until then), and must forget what it held
// when the request is retried.
#pragma once

#include <rapidjson/reader.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/errors.hpp"
#include "config/fields.hpp"

namespace ce::scim {

// A part of the answer that the reader would have to hold is larger than its limit; field() names the setting.
class LimitError : public Error {
public:
    LimitError(std::string what, std::string field)
        : Error(ErrorKind::invalid_config, std::move(what), std::move(field)) {}
};

// What the reader may hold, and the settings its errors name.
// The defaults are the config's (config/fields.hpp); the connector sets them from the config.
struct MemberReaderLimits {
    size_t member_bytes = config::default_of<&config::Config::max_member_kb>() * kKiB;      // one member object
    size_t envelope_bytes = config::default_of<&config::Config::max_response_mb>() * kMiB;  // the rest of the answer
    std::string member_field{config::name_of<&config::Config::max_member_kb>()};
    std::string envelope_field{config::name_of<&config::Config::max_response_mb>()};
};

// Where the elements of the array go instead, when the reader is cutting a list page into its resources
// (GroupPageReader): each element's bytes, in order, between begin() and end().
class ElementHandler {
public:
    virtual ~ElementHandler() = default;
    virtual void begin() = 0;
    virtual void byte(char c) = 0;
    // A run of bytes of the element in one call (the reader hands over whole runs that hold no structure).
    virtual void bytes(std::string_view run) {
        for (char c : run) byte(c);
    }
    virtual void end() = 0;
    virtual size_t held_bytes() const = 0;
};

class GroupMembersReader {
public:
    using Limits = MemberReaderLimits;

    // value: the member's id (may be empty); type: "User", "Group", any other text, or "" when absent. Both
    // point into the reader's buffer and are valid during the call only. May throw (the exception propagates
    // out of feed()).
    using OnMember = std::function<void(std::string_view value, std::string_view type)>;

    explicit GroupMembersReader(OnMember on_member, Limits limits = {});
    // A reader of another top-level array (compared ignoring case, ASCII only), whose elements go to `elements`
    // (not parsed as members; `limits.member_bytes` does not apply to them). Neither is owned.
    GroupMembersReader(std::string_view array_key, ElementHandler *elements, Limits limits);

    // Forgets everything read so far (a new attempt of the same request).
    void reset();
    // Reads the next piece of the body. Throws ParseError as soon as the body cannot be a valid answer.
    void feed(std::string_view bytes);
    void feed(char c) {
        step(c);
        ++bytes_;
    }
    // The body has ended: throws ParseError unless it was one complete, valid answer.
    void finish();
    // The body has ended: throws ParseError unless its structure is complete, and returns the document without
    // the array's content (the array itself left as "[]"), for the caller's DOM parser (scim_json.hpp parses it
    // in place). For a resource of a list page and for the page itself.
    std::string &finish_envelope();
    // The array was present (not absent, not null).
    bool array_seen() const { return array_seen_; }

    uint64_t members() const { return members_; }
    // After finish(): the answer's top-level "id" (the group it describes), "" when it has none.
    const std::string &resource_id() const { return resource_id_; }
    // The bytes it keeps now (the current member and the document around the list, as written).
    size_t held_bytes() const {
        return element_.size() + envelope_.size() + (elements_ ? elements_->held_bytes() : 0);
    }

private:
    enum class Members { not_seen, await_colon, await_value, in_array, seen };

    void step(char c);
    void step_envelope(char c);
    void step_envelope_string(char c);
    bool step_members_value(char c);
    void step_structure(char c);
    void step_array(char c);
    void end_element();
    void key_done();
    void keep_element(char c);
    size_t element_run(std::string_view rest) const;
    void keep_element_run(std::string_view run);
    void keep_envelope(char c);
    [[noreturn]] void too_large(const char *what, size_t limit, const std::string &field) const;

    OnMember on_member_;
    Limits limits_;
    std::string array_key_ = "members";
    ElementHandler *elements_ = nullptr;
    bool array_seen_ = false;
    rapidjson::Reader element_reader_;

    // Scanner state.
    int64_t depth_ = 0;           // containers open
    bool in_string_ = false;
    bool escape_ = false;
    bool top_started_ = false;    // the top-level value has begun
    bool top_closed_ = false;     // ... and ended
    bool top_is_object_ = false;
    bool expect_key_ = false;     // at depth 1 of the top object, the next string is a key
    bool capturing_key_ = false;
    std::string key_;             // raw bytes of the current depth-1 key (at most kMaxKey)
    bool key_too_long_ = false;
    Members members_state_ = Members::not_seen;
    bool expect_element_ = false; // inside the array: after '[' or ','
    bool after_comma_ = false;
    bool in_element_ = false;
    std::string element_;         // the current member's bytes
    std::string envelope_;        // the document without the member array's content
    std::string resource_id_;     // the envelope's "id", read by finish()
    uint64_t members_ = 0;
    uint64_t bytes_ = 0;
};

}  // namespace ce::scim
