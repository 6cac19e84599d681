target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/security.h
    ${CMAKE_CURRENT_LIST_DIR}/security.cpp
    ${CMAKE_CURRENT_LIST_DIR}/smtpsession.h
    ${CMAKE_CURRENT_LIST_DIR}/smtpsession.cpp
)
