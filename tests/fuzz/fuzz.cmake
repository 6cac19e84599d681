# libFuzzer target for the SMTP reply parser (also checks DataEncoder on the
# same bytes), plus a short CTest smoke run. Configured only with
# -DSMTPSCOPE_BUILD_FUZZERS=ON and clang (tests/CMakeLists.txt).
option(SMTPSCOPE_FUZZ_SANITIZE "Build core and fuzzers with ASan and UBSan" ON)

add_executable(replyparser_fuzzer ${CMAKE_CURRENT_LIST_DIR}/replyparser_fuzzer.cpp)
target_link_libraries(replyparser_fuzzer PRIVATE core)
target_compile_options(replyparser_fuzzer PRIVATE -fsanitize=fuzzer)
target_link_options(replyparser_fuzzer PRIVATE -fsanitize=fuzzer)

# The code under test lives in core: it needs the coverage instrumentation
# (fuzzer-no-link) to guide the fuzzer, and the sanitizers to catch bugs.
# Guarded so that several fuzz fragments can share it.
get_property(_core_instrumented GLOBAL PROPERTY SMTPSCOPE_CORE_FUZZ_INSTRUMENTED)
if(NOT _core_instrumented)
    set_property(GLOBAL PROPERTY SMTPSCOPE_CORE_FUZZ_INSTRUMENTED TRUE)
    target_compile_options(core PRIVATE -fsanitize=fuzzer-no-link)
    if(SMTPSCOPE_FUZZ_SANITIZE)
        target_compile_options(core PUBLIC -fsanitize=address,undefined
                                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
        # PUBLIC: every executable linking core (fuzzers and tests) links the runtimes.
        target_link_options(core PUBLIC -fsanitize=address,undefined)
    endif()
endif()

set(_replyparser_work_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/replyparser)
file(MAKE_DIRECTORY ${_replyparser_work_corpus})
# New inputs go to the first (build-tree) directory; the seeds in the source
# tree are only read.
add_test(NAME fuzz_replyparser_smoke
         COMMAND replyparser_fuzzer -max_total_time=20 -max_len=8192 -timeout=10
                 -dict=${CMAKE_CURRENT_LIST_DIR}/smtp.dict
                 ${_replyparser_work_corpus} ${CMAKE_CURRENT_LIST_DIR}/corpus/replyparser)
set_tests_properties(fuzz_replyparser_smoke PROPERTIES TIMEOUT 120 LABELS fuzz)
