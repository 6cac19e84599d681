# The main window and the send controller that joins the panels to the engine.
target_sources(ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/sendcontroller.h
    ${CMAKE_CURRENT_LIST_DIR}/sendcontroller.cpp
    ${CMAKE_CURRENT_LIST_DIR}/mainwindow.h
    ${CMAKE_CURRENT_LIST_DIR}/mainwindow.cpp
)
