# The capture server's I/O driver: listeners, connections, TLS.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/captureserver.h
    ${CMAKE_CURRENT_LIST_DIR}/captureserver.cpp
)
