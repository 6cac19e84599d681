# Benchmarks (see bench/README.md): the smtpsink server and the smtpbench driver.

# smtpsink: plain POSIX + epoll, no Qt. It is the measuring instrument, so it is
# optimised even in a Debug tree: it must never be what limits the client measured.
add_executable(smtpsink
    ${CMAKE_CURRENT_LIST_DIR}/sink/main.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sink/sinksession.h
    ${CMAKE_CURRENT_LIST_DIR}/sink/sinksession.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sink/smtpsink.h
    ${CMAKE_CURRENT_LIST_DIR}/sink/smtpsink.cpp
)
set_target_properties(smtpsink PROPERTIES AUTOMOC OFF AUTOUIC OFF AUTORCC OFF)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(smtpsink PRIVATE -O2)
endif()

# smtpbench: drives SmtpClient (core) against the sink, and Python's smtplib for
# comparison. The sink's and the script's paths are compiled in.
qt_add_executable(smtpbench ${CMAKE_CURRENT_LIST_DIR}/smtpbench.cpp)
target_link_libraries(smtpbench PRIVATE core)
add_dependencies(smtpbench smtpsink)
target_compile_definitions(smtpbench PRIVATE
    SMTPBENCH_SINK_PATH="$<TARGET_FILE:smtpsink>"
    SMTPBENCH_PYTHON_SCRIPT="${CMAKE_CURRENT_LIST_DIR}/smtplib_bench.py"
    SMTPBENCH_BUILD_TYPE="$<CONFIG>"
)

# bench_history: the history database with 10,000 stored sessions:
# list, count, text search and server filter timed.
qt_add_executable(bench_history ${CMAKE_CURRENT_LIST_DIR}/bench_history.cpp)
target_link_libraries(bench_history PRIVATE core)
