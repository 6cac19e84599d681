# Message composition on GMime 3. GMime headers stay in the .cpp files:
# GLib's names clash with Qt's unless QT_NO_KEYWORDS, and callers need not see them.
target_sources(core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/gmimesupport.h
    ${CMAKE_CURRENT_LIST_DIR}/message.h
    ${CMAKE_CURRENT_LIST_DIR}/message.cpp
    ${CMAKE_CURRENT_LIST_DIR}/messagelayout.h
    ${CMAKE_CURRENT_LIST_DIR}/messagelayout.cpp
    ${CMAKE_CURRENT_LIST_DIR}/regularfile.h
    ${CMAKE_CURRENT_LIST_DIR}/regularfile.cpp
)
