# bench_capturestore: the capture store's delivery cost and start-up time
# against the number of messages stored (0, 10,000 and 100,000 by default).
qt_add_executable(bench_capturestore ${CMAKE_CURRENT_LIST_DIR}/bench_capturestore.cpp)
target_link_libraries(bench_capturestore PRIVATE core)
