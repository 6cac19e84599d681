# The main window and the send controller that joins the panels to the engine;
# the window's drafts and outbox are kept by their own two classes.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/sendcontroller.h
    ${CMAKE_CURRENT_LIST_DIR}/sendcontroller.cpp
    ${CMAKE_CURRENT_LIST_DIR}/draftkeeper.h
    ${CMAKE_CURRENT_LIST_DIR}/draftkeeper.cpp
    ${CMAKE_CURRENT_LIST_DIR}/outboxcontroller.h
    ${CMAKE_CURRENT_LIST_DIR}/outboxcontroller.cpp
    ${CMAKE_CURRENT_LIST_DIR}/mainwindow.h
    ${CMAKE_CURRENT_LIST_DIR}/mainwindow.cpp
)
