// The plugin's static self-description (conn_descriptor), valid for the life of the loaded library.
#pragma once

#include <connector/connector_abi.h>

namespace ce::abi {
const conn_descriptor *descriptor();
}
