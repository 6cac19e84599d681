# The socket driver (core/transport): the only code that touches QSslSocket.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/smtptransport.h
    ${CMAKE_CURRENT_LIST_DIR}/smtptransport.cpp
)
