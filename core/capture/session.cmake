# The capture server's faults and sans-I/O SMTP session.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/fault.h
    ${CMAKE_CURRENT_LIST_DIR}/fault.cpp
    ${CMAKE_CURRENT_LIST_DIR}/serversession.h
    ${CMAKE_CURRENT_LIST_DIR}/serversession.cpp
)
