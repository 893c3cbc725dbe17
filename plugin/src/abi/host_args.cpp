#include "abi/host_args.hpp"

namespace ce::abi {

std::vector<std::pair<std::string, std::string>> read_kvs(const conn_kv *kvs, size_t count, const char *field,
                                                          const char *null_entries) {
    if (count > 0 && !kvs) throw Error::invalid_argument(field, null_entries);
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = 0; i < count; ++i) {
        require_str(kvs[i].key, field);
        require_str(kvs[i].value, field);
        out.emplace_back(std::string(view(kvs[i].key)), std::string(view(kvs[i].value)));
    }
    return out;
}

CallContext make_context(const conn_call *call) {
    CallContext ctx;
    if (!call) return ctx;
    if (call->is_cancelled) {
        auto fn = call->is_cancelled;
        void *c = call->ctx;
        ctx.cancelled = [fn, c]() { return fn(c) != 0; };
    }
    if (call->progress) {
        auto fn = call->progress;
        void *c = call->ctx;
        ctx.progress = [fn, c](const Progress &p) {
            conn_progress cp{};
            cp.struct_size = sizeof cp;
            cp.phase = cstr(p.phase);
            copy_counts(cp, p.counts);
            cp.total_hint = p.total_hint;
            fn(c, &cp);
        };
    }
    return ctx;
}

}  // namespace ce::abi
