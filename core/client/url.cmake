# Errors as values and the connection URL parser (core/client).
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/smtperror.h
    ${CMAKE_CURRENT_LIST_DIR}/smtperror.cpp
    ${CMAKE_CURRENT_LIST_DIR}/smtpurl.h
    ${CMAKE_CURRENT_LIST_DIR}/smtpurl.cpp
)
