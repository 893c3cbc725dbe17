#include "scim/members_reader.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "common/text.hpp"
#include "common/units.hpp"
#include "scim/json_text.hpp"
#include "scim/scim_json.hpp"

namespace ce::scim {
namespace {

constexpr unsigned kParseFlags =
    rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
// "members" with every letter written as \uXXXX is 42 bytes: a longer key cannot be it.
constexpr size_t kMaxKey = 64;

[[noreturn]] void fail(const std::string &why) { throw ParseError(why); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Whether the raw bytes of a JSON string (between its quotes) decode to `key`, ignoring ASCII case.
// Only ASCII can match, so an escape that decodes to anything else (or is malformed) is a mismatch.
bool key_equals(const std::string &raw, std::string_view key) {
    std::string decoded;
    for (size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '\\') {
            if (i + 1 >= raw.size()) return false;
            if (raw[++i] != 'u') return false;  // \" \\ \/ \b \f \n \r \t: not a letter
            if (i + 4 >= raw.size()) return false;
            int cp = 0;
            for (size_t k = 1; k <= 4; ++k) {
                const int h = hex_value(raw[i + k]);
                if (h < 0) return false;
                cp = cp * 16 + h;
            }
            i += 4;
            if (cp >= 0x80) return false;
            c = static_cast<char>(cp);
        }
        decoded += c;
    }
    return text::iequals(decoded, key);
}

// SAX handler for one member object: the first "value" and the first "type" at its top level (a null one
// counts as absent, like the DOM parser's lookup), everything else skipped.
struct MemberHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, MemberHandler> {
    enum class Field { other, value, type };

    size_t index = 0;
    int depth = 0;
    Field key = Field::other;
    bool value_seen = false, type_seen = false;
    std::string_view value, type;
    bool has_value = false;
    std::string error;

    std::string where(const char *f) const { return "members[" + std::to_string(index) + "]" + (f ? std::string(".") + f : ""); }
    bool wrong(const char *f, const char *expected) {
        error = "the field '" + where(f) + "' is not " + expected;
        return false;
    }
    // A value starts at the member's top level: record it if its key is one we want (null: absent).
    bool field_value(bool is_string, bool is_null, const char *str, rapidjson::SizeType len) {
        const Field k = key;
        key = Field::other;
        if (k == Field::other || is_null) return true;
        const char *name = k == Field::value ? "value" : "type";
        if (!is_string) return wrong(name, "a string");
        if (holds_encoded_surrogate(str, len)) {
            error = "the field '" + where(name) + "' is not valid UTF-8 (an escaped lone surrogate)";
            return false;
        }
        (k == Field::value ? value : type) = std::string_view(str, len);
        if (k == Field::value) has_value = true;
        return true;
    }
    bool scalar(bool is_string, bool is_null, const char *str = nullptr, rapidjson::SizeType len = 0) {
        if (depth == 0) return wrong(nullptr, "an object");
        if (depth == 1) return field_value(is_string, is_null, str, len);
        return true;
    }

    bool Default() { return scalar(false, false); }
    bool Null() { return scalar(false, true); }
    bool String(const char *s, rapidjson::SizeType len, bool) { return scalar(true, false, s, len); }
    bool Key(const char *s, rapidjson::SizeType len, bool) {
        key = Field::other;
        if (depth != 1) return true;
        if (!value_seen && text::iequals(std::string_view(s, len), "value")) {
            value_seen = true;
            key = Field::value;
        } else if (!type_seen && text::iequals(std::string_view(s, len), "type")) {
            type_seen = true;
            key = Field::type;
        }
        return true;
    }
    bool StartObject() {
        if (depth == 1 && !field_value(false, false, nullptr, 0)) return false;
        ++depth;
        return true;
    }
    bool StartArray() {
        if (depth == 0) return wrong(nullptr, "an object");
        if (depth == 1 && !field_value(false, false, nullptr, 0)) return false;
        ++depth;
        return true;
    }
    bool EndObject(rapidjson::SizeType) {
        --depth;
        return true;
    }
    bool EndArray(rapidjson::SizeType) {
        --depth;
        return true;
    }
};

}  // namespace

GroupMembersReader::GroupMembersReader(OnMember on_member, Limits limits)
    : on_member_(std::move(on_member)), limits_(std::move(limits)) {}

GroupMembersReader::GroupMembersReader(std::string_view array_key, ElementHandler *elements, Limits limits)
    : limits_(std::move(limits)), array_key_(array_key), elements_(elements) {}

void GroupMembersReader::too_large(const char *what, size_t limit, const std::string &field) const {
    const std::string size =
        limit >= kMiB ? std::to_string(limit / kMiB) + " MB" : std::to_string(limit / kKiB) + " KiB";
    throw LimitError(std::string(what) + " is larger than the configured limit of " + size + " (" + field + ")", field);
}

void GroupMembersReader::keep_element(char c) {
    if (elements_) {
        elements_->byte(c);
        return;
    }
    if (element_.size() >= limits_.member_bytes)
        too_large(("member " + std::to_string(members_) + " of the group").c_str(), limits_.member_bytes,
                  limits_.member_field);
    element_ += c;
}

void GroupMembersReader::reset() {
    resource_id_.clear();
    depth_ = 0;
    in_string_ = escape_ = false;
    top_started_ = top_closed_ = top_is_object_ = false;
    expect_key_ = capturing_key_ = key_too_long_ = false;
    key_.clear();
    members_state_ = Members::not_seen;
    array_seen_ = false;
    expect_element_ = after_comma_ = in_element_ = false;
    std::string().swap(element_);  // gives the memory back: a new attempt starts from nothing
    std::string().swap(envelope_);
    members_ = 0;
    bytes_ = 0;
}

void GroupMembersReader::feed(std::string_view bytes) {
    size_t i = 0;
    while (i < bytes.size()) {
        // Inside an element, runs that change no state of this reader (most of a page: the strings) are kept
        // whole; every other byte goes through the state machine.
        const size_t run = members_state_ == Members::in_array && in_element_ ? element_run(bytes.substr(i)) : 0;
        if (run > 0) {
            keep_element_run(bytes.substr(i, run));
            i += run;
            bytes_ += run;
            continue;
        }
        step(bytes[i]);
        ++i;
        ++bytes_;
    }
}

namespace {

// Bytes that end a run inside an element: in a string, its end or an escape; outside one, anything that opens,
// closes or separates. NUL ends every run (step() refuses it).
struct RunStops {
    bool in_string[256]{};
    bool outside[256]{};
    constexpr RunStops() {
        in_string[0] = outside[0] = true;
        in_string[static_cast<unsigned char>('"')] = in_string[static_cast<unsigned char>('\\')] = true;
        for (char c : {'"', '{', '}', '[', ']', ','}) outside[static_cast<unsigned char>(c)] = true;
    }
};
constexpr RunStops kRunStops;

}  // namespace

size_t GroupMembersReader::element_run(std::string_view rest) const {
    if (in_string_ && escape_) return 0;
    const bool *stops = in_string_ ? kRunStops.in_string : kRunStops.outside;
    size_t n = 0;
    while (n < rest.size() && !stops[static_cast<unsigned char>(rest[n])]) ++n;
    return n;
}

void GroupMembersReader::keep_element_run(std::string_view run) {
    if (elements_) {
        elements_->bytes(run);
        return;
    }
    if (element_.size() + run.size() > limits_.member_bytes) {
        // Fill up to the limit (never passed: keep_element refuses the byte past it), then refuse as it does.
        element_.append(run.substr(0, limits_.member_bytes - element_.size()));
        keep_element(run[0]);
    }
    element_.append(run);
}

void GroupMembersReader::step(char c) {
    if (c == '\0') fail("the response is not valid JSON (it holds a NUL byte at byte " + std::to_string(bytes_) + ")");
    if (members_state_ == Members::in_array) step_array(c);
    else step_envelope(c);
}

void GroupMembersReader::key_done() {
    if (depth_ == 1 && top_is_object_ && !top_closed_ && members_state_ == Members::not_seen && !key_too_long_ && key_equals(key_, array_key_))
        members_state_ = Members::await_colon;
}

void GroupMembersReader::keep_envelope(char c) {
    if (envelope_.size() >= limits_.envelope_bytes)
        too_large("the answer outside its member list", limits_.envelope_bytes, limits_.envelope_field);
    envelope_ += c;
}

void GroupMembersReader::step_envelope(char c) {
    keep_envelope(c);
    if (in_string_) {
        step_envelope_string(c);
        return;
    }
    if (is_space(c)) return;
    // The first character of the top-level value.
    if (depth_ == 0 && !top_started_) {
        top_started_ = true;
        top_is_object_ = c == '{';
    }
    if (step_members_value(c)) return;
    step_structure(c);
}

void GroupMembersReader::step_envelope_string(char c) {
    if (!escape_ && c == '"') {
        in_string_ = false;
        if (capturing_key_) {
            capturing_key_ = false;
            key_done();
        }
        return;
    }
    escape_ = !escape_ && c == '\\';
    if (capturing_key_) {
        if (key_.size() < kMaxKey) key_ += c;
        else key_too_long_ = true;
    }
}

// After the first "members" key: its colon, then its value (an array is read element by element). True when c
// was taken here.
bool GroupMembersReader::step_members_value(char c) {
    if (members_state_ == Members::await_colon) {
        // Anything but the colon: not a valid document; the envelope's parse will say so.
        members_state_ = c == ':' ? Members::await_value : Members::seen;
        if (c != ':') return false;
        expect_key_ = false;
        return true;
    }
    if (members_state_ != Members::await_value || depth_ != 1) return false;
    if (c == '[') {
        ++depth_;
        members_state_ = Members::in_array;
        array_seen_ = true;
        expect_element_ = true;
        after_comma_ = false;
        return true;
    }
    if (c != 'n') fail("the field '" + array_key_ + "' is not an array");
    members_state_ = Members::seen;  // null: no members (the envelope's parse checks the literal)
    return false;
}

// Strings, nesting and the keys of the top-level object, outside strings.
void GroupMembersReader::step_structure(char c) {
    switch (c) {
    case '"':
        in_string_ = true;
        escape_ = false;
        if (depth_ == 1 && top_is_object_ && expect_key_) {
            capturing_key_ = true;
            expect_key_ = false;
            key_.clear();
            key_too_long_ = false;
        }
        break;
    case '{':
    case '[':
        ++depth_;
        if (depth_ == 1) expect_key_ = c == '{';
        break;
    case '}':
    case ']':
        if (--depth_ < 0)
            fail("the response is not valid JSON (a bracket closes nothing at byte " + std::to_string(bytes_) + ")");
        if (depth_ == 0) top_closed_ = true;
        break;
    case ',':
        if (depth_ == 1 && top_is_object_) expect_key_ = true;
        break;
    case ':':
        if (depth_ == 1) expect_key_ = false;
        break;
    default: break;
    }
}

void GroupMembersReader::step_array(char c) {
    if (in_element_) {
        if (in_string_) {
            keep_element(c);
            if (!escape_ && c == '"') in_string_ = false;
            else escape_ = !escape_ && c == '\\';
            return;
        }
        switch (c) {
        case '"':
            in_string_ = true;
            escape_ = false;
            keep_element(c);
            return;
        case '{':
        case '[':
            ++depth_;
            keep_element(c);
            return;
        case '}':
        case ']':
        case ',':
            if (depth_ > 2) {
                if (c != ',') --depth_;
                keep_element(c);
                return;
            }
            end_element();  // and the delimiter is read at the array's level below
            break;
        default: keep_element(c); return;
        }
    }
    switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r': return;
    case ',':
        if (expect_element_) fail("the field '" + array_key_ + "' is not valid JSON (an empty element)");
        expect_element_ = after_comma_ = true;
        return;
    case ']':
        if (after_comma_) fail("the field '" + array_key_ + "' is not valid JSON (a comma before ']')");
        --depth_;
        members_state_ = Members::seen;
        envelope_ += ']';
        return;
    case '}': fail("the field '" + array_key_ + "' is not valid JSON ('}' closes the array)");
    default:
        if (!expect_element_) fail("the field '" + array_key_ + "' is not valid JSON (a missing comma)");
        in_element_ = true;
        expect_element_ = after_comma_ = false;
        element_.clear();
        if (elements_) elements_->begin();
        step_array(c);
    }
}

void GroupMembersReader::end_element() {
    in_element_ = false;
    if (elements_) {
        elements_->end();
        return;
    }
    // In place: the parsed strings stay in element_. Spare NULs keep the UTF-8 decoder of a sequence cut short
    // at the end inside the buffer (and fail it: NUL is no continuation byte).
    const size_t length = element_.size();
    element_.append(kSpareNuls, '\0');
    MemberHandler h;
    h.index = members_;
    rapidjson::InsituStringStream in(element_.data());
    const rapidjson::ParseResult ok = element_reader_.Parse<kParseFlags>(in, h);
    if (!ok) {
        if (!h.error.empty()) fail(h.error);
        fail("the field '" + h.where(nullptr) + "' is not valid JSON (" + rapidjson::GetParseError_En(ok.Code()) +
             " at byte " + std::to_string(ok.Offset()) + " of " + std::to_string(length) + ")");
    }
    if (!h.has_value) fail("the field '" + h.where("value") + "' is missing");
    ++members_;
    on_member_(h.value, h.type);
}

std::string &GroupMembersReader::finish_envelope() {
    if (in_string_ || in_element_ || depth_ != 0 || members_state_ == Members::in_array || !top_started_)
        fail("the response is not valid JSON (it ends inside the document after " + std::to_string(bytes_) + " bytes)");
    return envelope_;
}

void GroupMembersReader::finish() {
    std::string &envelope = finish_envelope();
    const size_t length = envelope.size();
    envelope.append(kSpareNuls, '\0');
    rapidjson::Document doc;
    doc.ParseInsitu<kParseFlags>(envelope.data());
    if (doc.HasParseError())
        fail(std::string("the response is not valid JSON (") + rapidjson::GetParseError_En(doc.GetParseError()) +
             " in the " + std::to_string(length) + " bytes around the member list)");
    if (!doc.IsObject()) fail("the response is not a JSON object");
    for (const auto &m : doc.GetObject()) {
        if (!text::iequals(std::string_view(m.name.GetString(), m.name.GetStringLength()), "id")) continue;
        if (m.value.IsString()) resource_id_.assign(m.value.GetString(), m.value.GetStringLength());
        break;  // the first "id" decides, as for every other attribute
    }
}

}  // namespace ce::scim
