target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/connectionsettings.h
    ${CMAKE_CURRENT_LIST_DIR}/connectionsettings.cpp
    ${CMAKE_CURRENT_LIST_DIR}/outgoingmessage.h
    ${CMAKE_CURRENT_LIST_DIR}/outgoingmessage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sendresult.h
    ${CMAKE_CURRENT_LIST_DIR}/sendresult.cpp
    ${CMAKE_CURRENT_LIST_DIR}/simulatedserver.h
    ${CMAKE_CURRENT_LIST_DIR}/simulatedserver.cpp
    ${CMAKE_CURRENT_LIST_DIR}/smtpclient.h
    ${CMAKE_CURRENT_LIST_DIR}/smtpclient.cpp
    ${CMAKE_CURRENT_LIST_DIR}/smtpdriver.h
    ${CMAKE_CURRENT_LIST_DIR}/smtpdriver.cpp
)
