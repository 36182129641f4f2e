# Fails when a source file includes a header its folder may not depend on.
# server -> acme -> {crypto, store}; wolfSSL only in crypto/, LMDB only in
# store/, libpq (PostgreSQL) only in store/, libevent only in server/, cJSON
# nowhere in store/.
set(rules
  "acme|<wolfssl/|<event2/|<event\\.h>|<evhttp\\.h>|<lmdb\\.h>|<libpq-fe\\.h>|<libpq/|<postgres|\"\\.\\./server/"
  "crypto|<event2/|<event\\.h>|<lmdb\\.h>|<libpq-fe\\.h>|<libpq/|<postgres|\"\\.\\./(server|acme|store)/"
  "store|<wolfssl/|<event2/|<event\\.h>|<cjson/|\"\\.\\./(server|acme|crypto)/"
  "server|<wolfssl/|<lmdb\\.h>|<libpq-fe\\.h>|<libpq/|<postgres|\"\\.\\./(crypto|store)/[a-z_]*_internal\\.h")
set(failed FALSE)
foreach(rule IN LISTS rules)
  string(FIND "${rule}" "|" bar)
  string(SUBSTRING "${rule}" 0 ${bar} dir)
  math(EXPR start "${bar} + 1")
  string(SUBSTRING "${rule}" ${start} -1 forbidden)
  file(GLOB_RECURSE files "${SRC}/${dir}/*.c" "${SRC}/${dir}/*.h")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS lines)
      if(line MATCHES "#[ \t]*include[ \t]*(${forbidden})")
        message(SEND_ERROR "layering: ${f} may not include: ${line}")
        set(failed TRUE)
      endif()
    endforeach()
  endforeach()
endforeach()
if(failed)
  message(FATAL_ERROR "layering check failed (server -> acme -> {crypto, store})")
endif()
