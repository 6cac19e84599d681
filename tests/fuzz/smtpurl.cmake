# libFuzzer target for the SMTP URL parser (core/client/smtpurl), plus a short
# CTest smoke run on the seeds (new inputs go to the build tree's directory; the
# seeds in the source tree are only read).
add_executable(smtpurl_fuzzer ${CMAKE_CURRENT_LIST_DIR}/smtpurl_fuzzer.cpp)
target_link_libraries(smtpurl_fuzzer PRIVATE core)
target_compile_options(smtpurl_fuzzer PRIVATE -fsanitize=fuzzer)
target_link_options(smtpurl_fuzzer PRIVATE -fsanitize=fuzzer)

set(_smtpurl_work_corpus ${CMAKE_CURRENT_BINARY_DIR}/corpus/smtpurl)
file(MAKE_DIRECTORY ${_smtpurl_work_corpus})
add_test(NAME fuzz_smtpurl_smoke
         COMMAND smtpurl_fuzzer -max_total_time=15 -max_len=512 -timeout=10
                 -dict=${CMAKE_CURRENT_LIST_DIR}/url.dict
                 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/smtpurl-
                 ${_smtpurl_work_corpus} ${CMAKE_CURRENT_LIST_DIR}/corpus/smtpurl)
set_tests_properties(fuzz_smtpurl_smoke PROPERTIES TIMEOUT 120 LABELS fuzz)
