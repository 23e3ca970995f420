// Library version (kept equal to project(VERSION) in CMakeLists.txt; a test checks).
#pragma once

#define CLIPCAER_VERSION_MAJOR 0
#define CLIPCAER_VERSION_MINOR 1
#define CLIPCAER_VERSION_PATCH 0
#define CLIPCAER_VERSION_STRING "0.1.0"
