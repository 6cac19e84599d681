# ui/composer: the message composer, its address-field parser and the
# wire preview dialog.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/addresslistparser.h
    ${CMAKE_CURRENT_LIST_DIR}/addresslistparser.cpp
    ${CMAKE_CURRENT_LIST_DIR}/wirepreviewdialog.h
    ${CMAKE_CURRENT_LIST_DIR}/wirepreviewdialog.cpp
    ${CMAKE_CURRENT_LIST_DIR}/composerwidget.h
    ${CMAKE_CURRENT_LIST_DIR}/composerwidget.cpp
)
