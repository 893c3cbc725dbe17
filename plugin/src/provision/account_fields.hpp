// Account-creation field handling: display-name cleaning and splitting (the e-mail check is text::looks_like_email).
//
// The display name is trimmed and every run of white space collapsed to one space. The first word is the
// given name and the rest the family name ("Mary Ann van der Berg" -> "Mary" / "Ann van der Berg").
// Choice for a one-word name ("Cher"): givenName is the word and familyName is OMITTED from the request (never
// sent as null or as an empty string); displayName is always the cleaned full name.
#pragma once

#include <string>
#include <string_view>

namespace ce::provision {

struct SplitName {
    std::string full;    // cleaned: trimmed, white space collapsed
    std::string given;   // first word
    std::string family;  // the rest, "" for a one-word name
};

// Empty `full` when the name holds no visible character.
SplitName split_display_name(std::string_view display_name);

}  // namespace ce::provision
