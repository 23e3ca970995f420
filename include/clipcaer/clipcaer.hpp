// Umbrella header: everything a C++ user of clipcaer needs.
#pragma once

#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/model.hpp"
#include "clipcaer/version.hpp"
