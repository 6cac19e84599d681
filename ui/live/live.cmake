# ui/live: the views that fill during a session (liveviews.h, eventlogmodel.h).
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/eventlogmodel.h
    ${CMAKE_CURRENT_LIST_DIR}/eventlogmodel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/liveviews.h
    ${CMAKE_CURRENT_LIST_DIR}/livecolours.h
    ${CMAKE_CURRENT_LIST_DIR}/livecolours.cpp
    ${CMAKE_CURRENT_LIST_DIR}/peertext.h
    ${CMAKE_CURRENT_LIST_DIR}/peertext.cpp
    ${CMAKE_CURRENT_LIST_DIR}/eventlogview.cpp
    ${CMAKE_CURRENT_LIST_DIR}/transcriptview.cpp
    ${CMAKE_CURRENT_LIST_DIR}/throughputchart.cpp
    ${CMAKE_CURRENT_LIST_DIR}/warningspanel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/resultpanel.cpp
)
