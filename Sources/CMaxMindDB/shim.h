#ifndef OSPREY_CMAXMINDDB_SHIM_H
#define OSPREY_CMAXMINDDB_SHIM_H
// Debian's libmaxminddb-dev (1.7.1): the MaxMind DB reader used for .mmdb geolocation and ASN files.
#include <sys/socket.h>
#include <netinet/in.h>
#include <maxminddb.h>
#endif
