/// @file settle.hpp
/// The umbrella header: all of settle.
#pragma once

#include "settle/all.hpp"
#include "settle/all_settled.hpp"
#include "settle/any.hpp"
#include "settle/errors.hpp"
#include "settle/executor.hpp"
#include "settle/options.hpp"
#include "settle/pending.hpp"
#include "settle/race.hpp"
#include "settle/settled.hpp"
#include "settle/task.hpp"
#include "settle/thread_pool.hpp"
#include "settle/version.hpp"
