# Events, statistics, warnings and TLS facts (core/events).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/eventqueue.h
    ${CMAKE_CURRENT_LIST_DIR}/eventqueue.cpp
    ${CMAKE_CURRENT_LIST_DIR}/socketevent.h
    ${CMAKE_CURRENT_LIST_DIR}/socketevent.cpp
    ${CMAKE_CURRENT_LIST_DIR}/usagestats.h
    ${CMAKE_CURRENT_LIST_DIR}/usagestats.cpp
    ${CMAKE_CURRENT_LIST_DIR}/tlsinfo.h
    ${CMAKE_CURRENT_LIST_DIR}/tlsinfo.cpp
)
