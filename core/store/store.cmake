# core/store: the SQLite history, drafts and outbox (QtSql; Qt6::Sql is found at
# the top level so that core's link line, made in core/'s scope, sees it).
target_link_libraries(core PUBLIC Qt6::Sql)
