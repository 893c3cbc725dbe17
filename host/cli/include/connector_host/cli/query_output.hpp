// The output of the snapshot questions (resources, grants, access, ...): rows from the store written as a
// table (aligned, names cut at 60 columns), JSON (one document: the run, then the rows as objects), NDJSON
// (one object a line) or CSV (RFC 4180, a header line). Every string is made safe for where it goes: table
// cells printable, JSON escaped (terminal controls too), CSV quoted when it must be.
#pragma once

#include "connector_host/cli/text_safety.hpp"

#include <connector_host/store/snapshot_reader.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace connector_host::cli {

enum class QueryFormat { table, json, ndjson, csv };
// Throws std::invalid_argument for anything but table, json, ndjson or csv.
QueryFormat parse_query_format(std::string_view name);

// A RowVisitor that writes as it goes (the table keeps the first rows to size its columns). end() completes
// the document; the writers throw OutputWriteError when writing fails.
class QueryOutput : public store::RowVisitor {
public:
    virtual void end() = 0;
};

// `run` is described in the JSON document's "run" member; `what` names its rows member ("resources", ...).
std::unique_ptr<QueryOutput> make_query_output(QueryFormat format, std::FILE *out, const store::RunSummary &run,
                                               std::string_view what);

}  // namespace connector_host::cli
