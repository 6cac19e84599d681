# core/store: the SQLite history, drafts and outbox (QtSql).
find_package(Qt6 6.4 REQUIRED COMPONENTS Sql)
target_link_libraries(core PUBLIC Qt6::Sql)
