// The Catch2 runner of every settle test executable, with the watchdog listener. Both
// live in this one translation unit so that linking the static support library always
// pulls the listener in (a listener alone in an object file nobody references would be
// dropped by the linker).
#if defined(SETTLE_CATCH2_V3)
#include <catch2/catch_section_info.hpp>
#include <catch2/catch_session.hpp>
#include <catch2/catch_test_case_info.hpp>
#include <catch2/reporters/catch_reporter_event_listener.hpp>
#include <catch2/reporters/catch_reporter_registrars.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

#include <memory>
#include <string>

#include "support/watchdog.hpp"

namespace {

#if defined(SETTLE_CATCH2_V3)
using listener_base = Catch::EventListenerBase;
#else
using listener_base = Catch::TestEventListenerBase;
#endif

/// Arms the watchdog for each test case and re-arms it for each section, so the
/// message names the innermost part that hung.
class watchdog_listener : public listener_base {
 public:
  using listener_base::listener_base;

  void testCaseStarting(Catch::TestCaseInfo const& info) override {
    listener_base::testCaseStarting(info);
    test_case_ = info.name;
    dog().arm("TEST_CASE \"" + test_case_ + "\"");
  }

  void sectionStarting(Catch::SectionInfo const& info) override {
    listener_base::sectionStarting(info);
    // The outermost section of every test case is the test case itself.
    if (info.name != test_case_)
      dog().arm("TEST_CASE \"" + test_case_ + "\", SECTION \"" + info.name + "\"");
  }

  void testCaseEnded(Catch::TestCaseStats const& stats) override {
    dog().disarm();
    listener_base::testCaseEnded(stats);
  }

 private:
  static settle_test::watchdog& dog() {
    static settle_test::watchdog instance(settle_test::watchdog_limit());
    return instance;
  }

  std::string test_case_;
};

}  // namespace

CATCH_REGISTER_LISTENER(watchdog_listener)

int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
