#pragma once

#include <settle/thread_pool.hpp>

namespace settle_test {

settle::thread_pool* default_executor_seen_from_another_translation_unit();
int all_settled_from_another_translation_unit();

}  // namespace settle_test
