/// @file detail/assert.hpp
/// The one assert hook. Define SETTLE_ASSERT before including settle to route internal
/// invariant checks to your own handler; by default they follow `assert`.
#pragma once

#ifndef SETTLE_ASSERT
#include <cassert>
#define SETTLE_ASSERT(cond) assert(cond)
#endif
