# The connection panel, profiles and the keychain.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/connectionprofile.h
    ${CMAKE_CURRENT_LIST_DIR}/connectionprofile.cpp
    ${CMAKE_CURRENT_LIST_DIR}/connectionpanel.h
    ${CMAKE_CURRENT_LIST_DIR}/connectionpanel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/profilestore.h
    ${CMAKE_CURRENT_LIST_DIR}/profilestore.cpp
)
