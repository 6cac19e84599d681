# SMTP reply parser, capabilities, DATA/BDAT encoder and input validation
# (sans-I/O, QtCore only).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/reply.h
    ${CMAKE_CURRENT_LIST_DIR}/reply.cpp
    ${CMAKE_CURRENT_LIST_DIR}/replyparser.h
    ${CMAKE_CURRENT_LIST_DIR}/replyparser.cpp
    ${CMAKE_CURRENT_LIST_DIR}/capabilities.h
    ${CMAKE_CURRENT_LIST_DIR}/capabilities.cpp
    ${CMAKE_CURRENT_LIST_DIR}/dataencoder.h
    ${CMAKE_CURRENT_LIST_DIR}/dataencoder.cpp
    ${CMAKE_CURRENT_LIST_DIR}/validation.h
    ${CMAKE_CURRENT_LIST_DIR}/validation.cpp
)
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/printable.h
    ${CMAKE_CURRENT_LIST_DIR}/printable.cpp
)
