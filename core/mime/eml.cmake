# Message files: .eml resent as they are (EmlMessage), saving any
# message as .eml and the wire preview (MessageFile).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/emlmessage.h
    ${CMAKE_CURRENT_LIST_DIR}/emlmessage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/messagefile.h
    ${CMAKE_CURRENT_LIST_DIR}/messagefile.cpp
)
